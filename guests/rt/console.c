/*
 * console.c - polled output (and input) on a 16550A UART; a small printf.
 *
 * printf understands %d %i %u %x %X %p %s %c %% with an optional '0' flag and a
 * field width (%08x, %5d); 'l' is accepted and ignored (long is 32 bits here).
 * Only 32-bit arithmetic is used, so nothing from libgcc is needed.
 */
#include "rt.h"
#include "platform.h"

static inline uint8_t uart_read(int reg)
{
    return *(volatile uint8_t *)(UART_BASE + reg);
}

static inline void uart_write(int reg, uint8_t v)
{
    *(volatile uint8_t *)(UART_BASE + reg) = v;
}

int putchar(int c)
{
    /* Wait until the transmit holding register is empty, then write the byte. */
    while (!(uart_read(UART_LSR) & LSR_THRE))
        ;
    uart_write(UART_THR, (uint8_t)c);
    return (uint8_t)c;
}

int getchar(void)
{
    if (!(uart_read(UART_LSR) & LSR_DR))
        return -1;
    return uart_read(UART_RBR);
}

int puts(const char *s)
{
    while (*s)
        putchar(*s++);
    putchar('\n');
    return 0;
}

/* Print v in base 10 or 16, at least `width` characters, padded with `pad`. */
static int print_number(uint32_t v, unsigned base, int negative, int width, char pad,
                        int upper)
{
    char buf[12];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0, count = 0;

    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    if (negative)
        width--;
    if (negative && pad == '0') {
        putchar('-');
        count++;
    }
    for (; width > n; width--, count++)
        putchar(pad);
    if (negative && pad != '0') {
        putchar('-');
        count++;
    }
    while (n)
        putchar(buf[--n]), count++;
    return count;
}

int vprintf(const char *fmt, va_list ap)
{
    int count = 0;

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putchar(*fmt);
            count++;
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') {
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
            int32_t v = va_arg(ap, int32_t);
            uint32_t mag = v < 0 ? -(uint32_t)v : (uint32_t)v;
            count += print_number(mag, 10, v < 0, width, pad, 0);
            break;
        }
        case 'u':
            count += print_number(va_arg(ap, uint32_t), 10, 0, width, pad, 0);
            break;
        case 'x':
        case 'X':
            count += print_number(va_arg(ap, uint32_t), 16, 0, width, pad, *fmt == 'X');
            break;
        case 'p':
            putchar('0'), putchar('x');
            count += 2 + print_number(va_arg(ap, uint32_t), 16, 0, 8, '0', 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = 0;
            if (!s)
                s = "(null)";
            while (s[len])
                len++;
            for (; width > len; width--, count++)
                putchar(' ');
            while (*s)
                putchar(*s++), count++;
            break;
        }
        case 'c':
            putchar(va_arg(ap, int));
            count++;
            break;
        case '%':
            putchar('%');
            count++;
            break;
        case '\0':
            return count;
        default:                        /* unknown: print it as it was */
            putchar('%');
            putchar(*fmt);
            count += 2;
        }
    }
    return count;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
