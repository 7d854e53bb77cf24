#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "print.h"
#include "str.h"
#include "uart.h"

struct spec {
    bool zero;
    bool left;
    int width;
    int longs; /* 0 = int, 1 = long, 2 = long long; size_t counts as long */
};

static void repeat(char c, int n)
{
    while (n-- > 0)
        uart_putc(c);
}

/* Writes prefix (sign or "0x") and body, padded to the field width. */
static void field(const char *prefix, const char *body, size_t len, const struct spec *sp)
{
    size_t plen = str_len(prefix);
    int fill = sp->width - (int)(plen + len);

    if (sp->left) {
        uart_write(prefix, plen);
        uart_write(body, len);
        repeat(' ', fill);
    } else if (sp->zero) {
        uart_write(prefix, plen);
        repeat('0', fill);
        uart_write(body, len);
    } else {
        repeat(' ', fill);
        uart_write(prefix, plen);
        uart_write(body, len);
    }
}

static void number(uint64_t value, unsigned base, bool upper, const char *prefix,
                   const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    size_t at = sizeof(buf);

    do {
        buf[--at] = digits[value % base];
        value /= base;
    } while (value);
    field(prefix, buf + at, sizeof(buf) - at, sp);
}

static uint64_t unsigned_arg(va_list *ap, int longs)
{
    if (longs == 0)
        return va_arg(*ap, unsigned int);
    if (longs == 1)
        return va_arg(*ap, unsigned long);
    return va_arg(*ap, unsigned long long);
}

static int64_t signed_arg(va_list *ap, int longs)
{
    if (longs == 0)
        return va_arg(*ap, int);
    if (longs == 1)
        return va_arg(*ap, long);
    return va_arg(*ap, long long);
}

/* Parses the flags, width and length of one conversion; returns where its
 * conversion character is. */
static const char *parse_spec(const char *p, struct spec *sp)
{
    *sp = (struct spec){0};
    for (;; p++) {
        if (*p == '0')
            sp->zero = true;
        else if (*p == '-')
            sp->left = true;
        else
            break;
    }
    while (*p >= '0' && *p <= '9')
        sp->width = sp->width * 10 + (*p++ - '0');
    for (;; p++) {
        if (*p == 'l')
            sp->longs++;
        else if (*p == 'z')
            sp->longs = 1;
        else if (*p != 'h')
            break;
    }
    return p;
}

static void convert(char conv, const struct spec *sp, va_list *ap)
{
    switch (conv) {
    case 'd':
    case 'i': {
        int64_t v = signed_arg(ap, sp->longs);
        uint64_t magnitude = v < 0 ? -(uint64_t)v : (uint64_t)v;
        number(magnitude, 10, false, v < 0 ? "-" : "", sp);
        break;
    }
    case 'u':
        number(unsigned_arg(ap, sp->longs), 10, false, "", sp);
        break;
    case 'x':
    case 'X':
        number(unsigned_arg(ap, sp->longs), 16, conv == 'X', "", sp);
        break;
    case 'p':
        number((uintptr_t)va_arg(*ap, void *), 16, false, "0x", sp);
        break;
    case 'c': {
        char c = (char)va_arg(*ap, int);
        field("", &c, 1, sp);
        break;
    }
    case 's': {
        const char *s = va_arg(*ap, const char *);
        if (!s)
            s = "(null)";
        field("", s, str_len(s), sp);
        break;
    }
    case '%':
        uart_putc('%');
        break;
    default: /* unknown conversion: show it rather than guess at its argument */
        uart_putc('%');
        uart_putc(conv);
        break;
    }
}

void vprint(const char *fmt, va_list ap)
{
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            uart_putc(*p);
            continue;
        }
        struct spec sp;
        p = parse_spec(p + 1, &sp);
        if (!*p)
            break;
        convert(*p, &sp, &args);
    }
    va_end(args);
}

void print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}
