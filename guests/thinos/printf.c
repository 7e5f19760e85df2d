/*
 * printf.c - formatting for thin_printf: %d %i %u %x %X %s %c %%, an optional '0'
 * flag and field width (%08x, %5d); 'l' is accepted and ignored (long is 32 bits).
 * Only 32-bit arithmetic (DIVU is an instruction), so nothing from libgcc is needed.
 */
#include "thinos.h"

struct out {
    char *buf;
    size_t size, n;         /* n counts every character, stored or not (C99 snprintf) */
};

static void put(struct out *o, char c)
{
    if (o->n + 1 < o->size)
        o->buf[o->n] = c;
    o->n++;
}

static void number(struct out *o, uint32_t v, unsigned base, int negative, int width,
                   char pad, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[12];
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (negative)
        width--;
    if (negative && pad == '0')
        put(o, '-');
    for (int i = n; i < width; i++)
        put(o, pad);
    if (negative && pad != '0')
        put(o, '-');
    while (n)
        put(o, tmp[--n]);
}

int thin_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        char pad = ' ';
        int width = 0;
        if (*++fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l')
            fmt++;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int v = va_arg(ap, int);
            number(&o, v < 0 ? -(uint32_t)v : (uint32_t)v, 10, v < 0, width, pad, 0);
            break;
        }
        case 'u':
            number(&o, va_arg(ap, uint32_t), 10, 0, width, pad, 0);
            break;
        case 'x':
        case 'X':
            number(&o, va_arg(ap, uint32_t), 16, 0, width, pad, *fmt == 'X');
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = 0;
            while (s[len])
                len++;
            for (int i = len; i < width; i++)
                put(&o, ' ');
            while (*s)
                put(&o, *s++);
            break;
        }
        case '\0':
            fmt--;                      /* a lone '%' at the end */
            break;
        default:                        /* "%%" and anything unknown: print it */
            put(&o, *fmt);
        }
    }
    if (size)
        buf[o.n < size ? o.n : size - 1] = '\0';
    return (int)o.n;
}

int thin_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = thin_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
