/*
 * Operator keypad, type 2, CHG-KP1 (PROTOCOL.md section 7).
 *
 * Board: keys 1-7 (next, recall, came, finish, no-show, transfer, pause)
 * on PC0 PC1 PC2 PC3 PD4 PD7 PB0, active low with pull-ups, sampled every
 * 10 ms (a press is 3 equal samples, >= 20 ms); LEDs green/yellow/red/red
 * on PB1-PB4 with their common anode switched by OC0A (PD6) for the
 * brightness; LCD backlight by OC0B (PD5); an active buzzer on PD3; a
 * 2x20 HD44780 LCD behind a PCF8574 I2C backpack (address 0x27, PC4 SDA,
 * PC5 SCL). The LCD is optional: a NACK marks it absent and it is looked
 * for again every 10 s.
 */
#include <string.h>
#include <util/delay.h>
#include "fw.h"
#include "events.h"

#if DEVICE_TYPE == 2

static uint8_t encoding;
static uint8_t line[80];	/* LINE1, LINE2 as written */
static uint8_t leds, leds_blink;
static uint8_t host_timeout = 10;
static uint16_t key_enable = 0xFFFF;
static uint8_t since_host;	/* seconds */
static uint8_t phase;		/* 10 ms ticks in a 500 ms period */
static uint8_t sub100;

/* ---- keys ---- */

static uint8_t keys_raw(void)
{
	uint8_t c = PINC, d = PIND, b = PINB, k = 0;
	if (!(c & _BV(PC0))) k |= 0x01;
	if (!(c & _BV(PC1))) k |= 0x02;
	if (!(c & _BV(PC2))) k |= 0x04;
	if (!(c & _BV(PC3))) k |= 0x08;
	if (!(d & _BV(PD4))) k |= 0x10;
	if (!(d & _BV(PD7))) k |= 0x20;
	if (!(b & _BV(PB0))) k |= 0x40;
	return k;
}

static uint8_t keys_down;	/* debounced */
static uint8_t stable[7];	/* samples that disagreed with keys_down */
static uint16_t held_ticks[7];

static void keys_tick(void)
{
	uint8_t raw = keys_raw();
	for (uint8_t i = 0; i < 7; i++) {
		uint8_t m = 1 << i;
		if (keys_down & m && held_ticks[i] < 0xFFFF)
			held_ticks[i]++;
		if ((raw & m) == (keys_down & m)) {
			stable[i] = 0;
			continue;
		}
		if (++stable[i] < 3)
			continue;
		stable[i] = 0;
		keys_down ^= m;
		if (keys_down & m) {
			held_ticks[i] = 0;
			continue;
		}
		/* released: the event, long when held >= 1 s */
		uint8_t code = i + 1;
		if (!(key_enable & (1 << i))) {
			beep(40);
			continue;
		}
		if (held_ticks[i] >= 100)
			code |= 0x80;
		if (ev_add(code))
			beep(0xFFFF);	/* dropped: twice */
	}
}

uint8_t type_key1_held(void)
{
	return !(PINC & _BV(PC0));
}

/* ---- buzzer ---- */

static uint16_t beep_left;	/* ticks of sound */
static uint8_t pause_left, beep_again;

void beep(uint16_t ms)
{
	beep_again = ms == 0xFFFF;	/* twice: 80 ms, 80 ms pause, 80 ms */
	beep_left = beep_again ? 8 : (ms + 9) / 10;
	pause_left = 0;
}

static void beep_tick(void)
{
	if (beep_left) {
		PORTD |= _BV(PD3);
		if (--beep_left == 0 && beep_again) {
			beep_again = 0;
			pause_left = 8;
		}
		return;
	}
	PORTD &= ~_BV(PD3);
	if (pause_left && --pause_left == 0)
		beep_left = 8;
}

/* ---- LEDs ---- */

static void leds_show(void)
{
	uint8_t on = leds;
	if (host_timeout && since_host >= host_timeout)
		on |= 0x08;
	uint8_t blink = leds_blink | ((host_timeout && since_host >= host_timeout) ? 0x08 : 0);
	if (phase >= 25)
		on &= ~blink;
	if (identify_left)
		on = phase < 25 ? 0x0F : 0;
	PORTB = (PORTB & ~0x1E) | (on & 0x0F) << 1;
	OCR0A = brightness * 17;
	OCR0B = brightness * 17;
}

/* ---- LCD: PCF8574 P0 RS, P1 RW, P2 E, P3 backlight, P4-P7 D4-D7 ---- */

#define LCD_ADDR (0x27 << 1)
static uint8_t lcd_ok;
static uint8_t lcd_retry;
static uint8_t want[40], have[40];	/* LCD codes; have 0xFE: unknown */
static uint8_t cg_want[8], cg_have[8];	/* CHG-1 code in each CGRAM slot */
static uint8_t redraw = 1;

static uint8_t twi_wait(void)
{
	for (uint16_t n = 0; n < 4000; n++)
		if (TWCR & _BV(TWINT))
			return TWSR & 0xF8;
	return 0;
}

static uint8_t i2c_begin(void)
{
	TWCR = _BV(TWINT) | _BV(TWSTA) | _BV(TWEN);
	uint8_t s = twi_wait();
	if (s != 0x08 && s != 0x10)
		return 0;
	TWDR = LCD_ADDR;
	TWCR = _BV(TWINT) | _BV(TWEN);
	/* SLA+W acknowledged: 0x18; simavr 1.6 says 0x28 (data ACK), which
	 * a real TWI never reports here */
	s = twi_wait();
	return s == 0x18 || s == 0x28;
}

static uint8_t i2c_byte(uint8_t b)
{
	TWDR = b;
	TWCR = _BV(TWINT) | _BV(TWEN);
	return twi_wait() == 0x28;
}

static void i2c_end(void)
{
	TWCR = _BV(TWINT) | _BV(TWSTO) | _BV(TWEN);
}

/* one byte to the HD44780 in two nibbles; rs: 1 data, 0 command */
static uint8_t lcd_send(uint8_t v, uint8_t rs)
{
	uint8_t bl = brightness ? 0x08 : 0;
	uint8_t ok = i2c_begin();
	for (uint8_t i = 0; ok && i < 2; i++) {
		uint8_t d = (i ? v << 4 : v & 0xF0) | bl | rs;
		ok = i2c_byte(d | 0x04) && i2c_byte(d);
	}
	i2c_end();
	if (!ok)
		lcd_ok = 0;
	return ok;
}

static uint8_t lcd_nibble(uint8_t n)
{
	uint8_t ok = i2c_begin() && i2c_byte(n | 0x0C) && i2c_byte(n | 0x08);
	i2c_end();
	return ok;
}

static void lcd_start(uint8_t power_up)
{
	TWBR = 72;	/* 100 kHz */
	TWSR = 0;
	if (power_up)
		_delay_ms(15);
	lcd_ok = lcd_nibble(0x30);
	if (!lcd_ok)
		return;
	_delay_ms(5);
	lcd_nibble(0x30);
	_delay_us(150);
	lcd_nibble(0x30);
	lcd_nibble(0x20);	/* 4-bit */
	lcd_send(0x28, 0);	/* 2 lines, 5x8 */
	lcd_send(0x0C, 0);	/* display on, no cursor */
	lcd_send(0x06, 0);	/* entry: increment */
	memset(have, 0xFE, sizeof have);
	memset(cg_have, 0, sizeof cg_have);
	redraw = 1;
}

/* CHG-1 code to a character of the HD44780's A00 ROM, or 0 */
static uint8_t rom_char(uint8_t c)
{
	if (c >= 0x20 && c <= 0x7D && c != 0x5C)
		return c;
	static const char alike[] PROGMEM =
		"\xC0" "A" "\xC2" "B" "\xC5" "E" "\xCA" "K" "\xCC" "M" "\xCD" "H" "\xCE" "O"
		"\xD0" "P" "\xD1" "C" "\xD2" "T" "\xD5" "X" "\xB2" "I"
		"\xE0" "a" "\xE5" "e" "\xEE" "o" "\xF0" "p" "\xF1" "c" "\xF3" "y" "\xF5" "x" "\xB3" "i";
	for (uint8_t i = 0; i < sizeof alike - 1; i += 2)
		if ((uint8_t)pgm_read_byte(&alike[i]) == c)
			return pgm_read_byte(&alike[i + 1]);
	return 0;
}

static void compose(void)
{
	uint8_t ch[20];
	uint8_t slots = 0;
	memset(cg_want, 0, sizeof cg_want);
	for (uint8_t l = 0; l < 2; l++) {
		uint8_t n = text_decode(line + 40 * l, 40, encoding, ch, 20);
		for (uint8_t i = 0; i < 20; i++) {
			uint8_t c = i < n ? ch[i] : ' ', r = rom_char(c);
			if (!r) {
				/* a custom character: one of the 8 CGRAM slots */
				uint8_t s = 0;
				while (s < slots && cg_want[s] != c)
					s++;
				if (s == slots && slots < 8)
					cg_want[slots++] = c;
				r = s < 8 ? s : 0xFF;	/* more than 8: a block */
			}
			want[20 * l + i] = r;
		}
	}
}

/* one step of bringing the LCD up to date; 1: more to do */
static uint8_t lcd_step(void)
{
	if (!lcd_ok)
		return 0;
	if (redraw) {
		redraw = 0;
		compose();
	}
	for (uint8_t s = 0; s < 8; s++)
		if (cg_want[s] && cg_want[s] != cg_have[s]) {
			const uint8_t *g = font_glyph(cg_want[s]);
			lcd_send(0x40 | s << 3, 0);
			for (uint8_t y = 0; y < 8; y++) {
				uint8_t row = 0;
				for (uint8_t x = 0; x < 5; x++)
					if (y < 7 && (pgm_read_byte(g + x) & (1 << y)))
						row |= 0x10 >> x;
				lcd_send(row, 1);
			}
			cg_have[s] = cg_want[s];
			memset(have, 0xFE, sizeof have);	/* the DDRAM address is lost */
			return 1;
		}
	for (uint8_t i = 0; i < 40; i++)
		if (want[i] != have[i]) {
			lcd_send(0x80 | ((i < 20) ? i : 0x40 + i - 20), 0);
			/* then up to 4 changed characters of this line: a step takes
			 * at most ~2 ms of I2C, so a frame never waits long */
			uint8_t n = 0;
			do {
				lcd_send(want[i], 1);
				have[i] = want[i];
				i++;
			} while (++n < 4 && i % 20 && want[i] != have[i]);
			return 1;
		}
	return 0;
}

/* ---- the type module ---- */

void type_init(void)
{
	PORTC |= _BV(PC0) | _BV(PC1) | _BV(PC2) | _BV(PC3);
	PORTD |= _BV(PD4) | _BV(PD7);
	PORTB |= _BV(PB0);
	DDRB |= 0x1E;
	DDRD |= _BV(PD3) | _BV(PD5) | _BV(PD6);
	/* Timer0 fast PWM, clk/64 (976 Hz), OC0A and OC0B non-inverting */
	TCCR0A = _BV(COM0A1) | _BV(COM0B1) | _BV(WGM01) | _BV(WGM00);
	TCCR0B = _BV(CS01) | _BV(CS00);
	ev_init();
	lcd_start(1);
	leds_show();
}

void type_tick(void)
{
	if (++phase == 50)
		phase = 0;
	keys_tick();
	beep_tick();
	if (++sub100 == 10) {
		sub100 = 0;
		ev_tick100();
	}
	leds_show();
}

void type_second(void)
{
	if (since_host < 255)
		since_host++;
	if (host_timeout && since_host >= host_timeout)
		status_bits |= ST_HOST_TIMEOUT;
	if (!lcd_ok && ++lcd_retry >= 10) {
		lcd_retry = 0;
		lcd_start(0);
	}
}

uint8_t type_poll(void)
{
	return lcd_step();
}

void type_host_frame(void)
{
	since_host = 0;
	status_bits &= ~ST_HOST_TIMEOUT;
}

uint16_t type_hregs(void)
{
	return 46;
}

uint16_t type_hreg(uint16_t i)
{
	if (i >= 1 && i <= 40)
		return be16(line + 2 * (i - 1));
	switch (i) {
	case 0: return encoding;
	case 41: return leds;
	case 42: return leds_blink;
	case 44: return host_timeout;
	case 45: return key_enable;
	}
	return 0;	/* 43 BEEP reads 0 */
}

uint8_t type_hcheck(uint16_t i, uint16_t v)
{
	switch (i) {
	case 0: return v > 1 ? 3 : 0;
	case 41:
	case 42: return v > 15 ? 3 : 0;
	case 43: return (v < 1 || v > 2000) ? 3 : 0;
	case 44: return v > 255 ? 3 : 0;
	}
	return 0;
}

void type_hwrite(uint16_t i, uint16_t v)
{
	if (i >= 1 && i <= 40) {
		put16(line + 2 * (i - 1), v);
		redraw = 1;
		return;
	}
	switch (i) {
	case 0: encoding = v; redraw = 1; break;
	case 41: leds = v; break;
	case 42: leds_blink = v; break;
	case 43: beep(v); break;
	case 44: host_timeout = v; break;
	case 45: key_enable = v; break;
	}
}

void type_hwrite_done(uint16_t first, uint16_t n)
{
	(void)first;
	(void)n;
	leds_show();
}

uint16_t type_ireg(uint8_t i)
{
	return i == 0 ? keys_down : 0;
}

void type_ack(uint16_t seq)
{
	ev_ack(seq);
}

void type_events_prepare(void)
{
	ev_prepare();
}

uint16_t type_events_ireg(uint8_t i)
{
	return ev_ireg(i);
}

uint16_t type_ev_lost(void)
{
	return ev_lost();
}

#endif
