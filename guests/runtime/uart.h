/* Console output on the 16550A UART at COM1 (ports 0x3F8..0x3FF). */
#ifndef FERRY_UART_H
#define FERRY_UART_H

#include <stddef.h>

/* Programs the UART the way a real driver would: 115200 baud, 8N1, FIFOs on,
 * interrupts off. The VMM's UART model sees (and may need to save) this state. */
void uart_init(void);

/* Waits for the transmit holding register to be empty, then sends c. */
void uart_putc(char c);

void uart_write(const char *s, size_t len);

#endif
