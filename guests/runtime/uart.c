#include "uart.h"
#include "portio.h"

#define COM1      0x3F8
#define REG_THR   0 /* transmit holding (DLAB = 0) */
#define REG_DLL   0 /* divisor latch low (DLAB = 1) */
#define REG_IER   1 /* interrupt enable (DLAB = 0) */
#define REG_DLM   1 /* divisor latch high (DLAB = 1) */
#define REG_FCR   2
#define REG_LCR   3
#define REG_MCR   4
#define REG_LSR   5

#define LCR_DLAB     0x80
#define LCR_8N1      0x03
#define FCR_ENABLE_AND_CLEAR 0x07
#define MCR_DTR_RTS_OUT2     0x0b
#define LSR_THRE     0x20

void uart_init(void)
{
    outb(COM1 + REG_LCR, LCR_DLAB);
    outb(COM1 + REG_DLL, 1); /* divisor 1: 115200 baud */
    outb(COM1 + REG_DLM, 0);
    outb(COM1 + REG_LCR, LCR_8N1);
    outb(COM1 + REG_FCR, FCR_ENABLE_AND_CLEAR);
    outb(COM1 + REG_MCR, MCR_DTR_RTS_OUT2);
    outb(COM1 + REG_IER, 0);
}

void uart_putc(char c)
{
    while (!(inb(COM1 + REG_LSR) & LSR_THRE))
        ;
    outb(COM1 + REG_THR, (unsigned char)c);
}

void uart_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        uart_putc(s[i]);
}
