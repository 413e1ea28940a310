/*
 * Modbus RTU link layer (PROTOCOL.md 1.2-1.5): USART0 receive and
 * transmit by interrupt, frame boundaries by Timer1 (restarted on every
 * received character; compare B at t1.5, compare A at t3.5, CTC so the
 * timer stops itself at t3.5), RS-485 driver enable on PD2 raised before
 * the first byte and dropped in the transmit-complete interrupt.
 */
#include <avr/interrupt.h>
#include "fw.h"

uint8_t mb_buf[MB_BUF];
volatile uint8_t mb_state;
volatile uint16_t mb_len;
static volatile uint8_t t15;		/* t1.5 passed since the last character */
static volatile uint8_t bad;		/* this frame is to be dropped */
static volatile uint8_t rx_after;	/* bytes arrived while busy */
static uint16_t tx_pos, tx_len;

#define DE_ON() (PORTD |= _BV(PD2))
#define DE_OFF() (PORTD &= ~_BV(PD2))
#define T1_CLOCK (_BV(WGM12) | _BV(CS11))	/* CTC, clk/8: 0.5 us */

/* CRC-16/MODBUS by nibbles: 32 bytes of table */
static const uint16_t crc_nib[16] PROGMEM = {
	0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
	0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
};

uint16_t crc16(const uint8_t *p, uint16_t n)
{
	uint16_t c = 0xFFFF;
	while (n--) {
		c ^= *p++;
		c = (c >> 4) ^ pgm_read_word(&crc_nib[c & 15]);
		c = (c >> 4) ^ pgm_read_word(&crc_nib[c & 15]);
	}
	return c;
}

/* baud code: 0 9600, 1 19200, 2 38400, 3 57600, 4 115200 */
static const uint16_t ubrr_2x[5] PROGMEM = { 207, 103, 51, 34, 16 };
static const uint16_t t15_ticks[5] PROGMEM = { 3438, 1719, 1500, 1500, 1500 };
static const uint16_t t35_ticks[5] PROGMEM = { 8021, 4010, 3500, 3500, 3500 };

void mb_init(uint8_t baud, uint8_t format)
{
	DDRD |= _BV(PD2);
	DE_OFF();
	UCSR0A = _BV(U2X0);
	UBRR0 = pgm_read_word(&ubrr_2x[baud]);
	/* 0 8E1, 1 8O1, 2 8N2, 3 8N1 */
	uint8_t c = _BV(UCSZ01) | _BV(UCSZ00);
	if (format == 0)
		c |= _BV(UPM01);
	else if (format == 1)
		c |= _BV(UPM01) | _BV(UPM00);
	else if (format == 2)
		c |= _BV(USBS0);
	UCSR0C = c;
	UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);

	TCCR1A = 0;
	TCCR1B = T1_CLOCK;
	OCR1A = pgm_read_word(&t35_ticks[baud]);
	OCR1B = pgm_read_word(&t15_ticks[baud]);
	TCNT1 = 0;
	TIFR1 = _BV(OCF1A) | _BV(OCF1B);
	TIMSK1 = _BV(OCIE1A) | _BV(OCIE1B);
	/* a frame may start only after t3.5 of silence */
	mb_state = MB_WAIT;
}

ISR(USART_RX_vect)
{
	uint8_t st = UCSR0A;
	uint8_t c = UDR0;
	/* clock first, then the count: simavr restarts a stopped timer on
	 * a TCNT write (as the AVR would not) */
	TCCR1B = T1_CLOCK;
	TCNT1 = 0;
	TIFR1 = _BV(OCF1A) | _BV(OCF1B);
	switch (mb_state) {
	case MB_IDLE:
		mb_len = 0;
		bad = 0;
		t15 = 0;
		mb_state = MB_RX;
		/* fall through */
	case MB_RX:
		if (t15 || (st & (_BV(FE0) | _BV(DOR0) | _BV(UPE0))))
			bad = 1;
		if (mb_len < MB_BUF)
			mb_buf[mb_len++] = c;
		else
			bad = 1;
		break;
	case MB_WAIT:
		break;
	default:	/* a frame is being handled or answered */
		rx_after = 1;
		break;
	}
	t15 = 0;
}

ISR(TIMER1_COMPB_vect)
{
	t15 = 1;
}

ISR(TIMER1_COMPA_vect)
{
	TCCR1B = _BV(WGM12);	/* stopped */
	rx_after = 0;
	if (mb_state == MB_RX)
		mb_state = bad ? MB_IDLE : MB_READY;
	else if (mb_state == MB_WAIT)
		mb_state = MB_IDLE;
}

/* back to listening; bytes that came meanwhile are dropped up to silence */
static void listen(void)
{
	mb_state = rx_after ? MB_WAIT : MB_IDLE;
}

void mb_done(void)
{
	uint8_t s = SREG;
	cli();
	listen();
	SREG = s;
}

void mb_send(uint16_t len)
{
	uint16_t c = crc16(mb_buf, len);
	mb_buf[len++] = c;
	mb_buf[len++] = c >> 8;
	tx_len = len;
	tx_pos = 0;
	cli();
	mb_state = MB_TX;
	DE_ON();
	UCSR0A |= _BV(TXC0);	/* clear a stale transmit-complete flag */
	UCSR0B = (UCSR0B & ~_BV(TXCIE0)) | _BV(UDRIE0);
	sei();
}

ISR(USART_UDRE_vect)
{
	UDR0 = mb_buf[tx_pos++];
	if (tx_pos == tx_len)
		UCSR0B = (UCSR0B & ~_BV(UDRIE0)) | _BV(TXCIE0);
}

ISR(USART_TX_vect)
{
	UCSR0B &= ~_BV(TXCIE0);
	DE_OFF();
	listen();
}
