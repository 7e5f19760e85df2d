/*
 * check.c - the self-checking test programs' reporting.
 */
#include "rt.h"

static int checks, failures;

int check(const char *name, uint32_t got, uint32_t want)
{
    checks++;
    if (got == want) {
        printf("ok   %s = 0x%08x\n", name, got);
        return 1;
    }
    failures++;
    printf("FAIL %s = 0x%08x, want 0x%08x\n", name, got, want);
    return 0;
}

int check_addr(const char *name, uint32_t got, uint32_t want)
{
    checks++;
    if (got == want) {
        printf("ok   %s\n", name);
        return 1;
    }
    failures++;
    printf("FAIL %s = 0x%08x, want 0x%08x\n", name, got, want);
    return 0;
}

void section(const char *title)
{
    printf("== %s\n", title);
}

int check_summary(void)
{
    if (failures)
        printf("FAIL: %d of %d checks failed\n", failures, checks);
    else
        printf("PASS: %d checks\n", checks);
    return failures ? 1 : 0;
}

int check_exc(const char *name, uint32_t code, uint32_t epc, int bd)
{
    uint32_t got_bd = (exc_last.cause & CAUSE_BD) ? 1 : 0;
    checks++;
    if (exc_last.taken == 1 && exc_last.code == code && exc_last.epc == epc &&
        got_bd == (uint32_t)bd) {
        printf("ok   %s: %s%s\n", name, exc_name(code), bd ? " in delay slot" : "");
        return 1;
    }
    failures++;
    if (!exc_last.taken)
        printf("FAIL %s: no exception, want %s\n", name, exc_name(code));
    else
        printf("FAIL %s: %d x %s (Cause 0x%08x) at 0x%08x, want %s at 0x%08x BD=%d\n",
               name, exc_last.taken, exc_name(exc_last.code), exc_last.cause,
               exc_last.epc, exc_name(code), epc, bd);
    return 0;
}

int check_no_exc(const char *name)
{
    checks++;
    if (!exc_last.taken) {
        printf("ok   %s: no exception\n", name);
        return 1;
    }
    failures++;
    printf("FAIL %s: %s (Cause 0x%08x) at 0x%08x, want no exception\n", name,
           exc_name(exc_last.code), exc_last.cause, exc_last.epc);
    return 0;
}
