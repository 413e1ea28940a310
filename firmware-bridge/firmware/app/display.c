/*
 * Window display, type 1, CHG-WD1 (PROTOCOL.md section 6).
 *
 * Face: a chain of seven MAX7219 on SPI (PB3 MOSI, PB5 SCK, PB2 LOAD).
 * The first in the chain (nearest the MCU, so shifted last) drives the
 * window number on three 7-segment digits in code-B decode and the arrow
 * LEDs on digit 3; the other six drive 8x8 matrices, 48 columns for up to
 * 8 characters of 5x7 plus a column of space. Brightness 1-15 is the
 * MAX7219 intensity, 0 shuts the drivers down. The service button (hold
 * at power-up for the factory settings) is PC0, active low.
 *
 * Display memory is the register block itself: TEXT holds the bytes as
 * written (read back unchanged); the face shows them decoded.
 */
#include <string.h>
#include "fw.h"

#if DEVICE_TYPE == 1

#define NDEV 7
#define COLS 48

static uint8_t encoding;
static uint8_t text[16];
static uint16_t window;
static uint8_t blink;		/* BLINK as written */
static uint8_t blink_left;	/* seconds */
static uint16_t call_id;
static uint8_t idle_mode;
static uint8_t dirty = 1;
static uint8_t phase;		/* 10 ms ticks in the 500 ms blink period */
static uint8_t shown_bright = 0xFF;
static uint8_t fb[COLS];

static void spi(uint8_t b)
{
	SPDR = b;
	while (!(SPSR & _BV(SPIF)))
		;
}

/* one register of every driver: v[0] for the number driver, v[1..6] text */
static void max_all(uint8_t reg, const uint8_t *v)
{
	PORTB &= ~_BV(PB2);
	for (int8_t d = NDEV - 1; d >= 0; d--) {
		spi(reg);
		spi(v[d]);
	}
	PORTB |= _BV(PB2);
}

static void max_same(uint8_t reg, uint8_t v)
{
	uint8_t a[NDEV];
	memset(a, v, sizeof a);
	max_all(reg, a);
}

void type_init(void)
{
	DDRB |= _BV(PB2) | _BV(PB3) | _BV(PB5);
	PORTB |= _BV(PB2);
	PORTC |= _BV(PC0);	/* service button pull-up */
	SPCR = _BV(SPE) | _BV(MSTR);
	SPSR = _BV(SPI2X);	/* 8 MHz */
	max_same(0x0F, 0);	/* display test off */
	max_same(0x0B, 7);	/* scan all 8 digits */
	uint8_t dec[NDEV] = { 0x07, 0, 0, 0, 0, 0, 0 };
	max_all(0x09, dec);	/* code B on the number digits 0-2 */
}

uint8_t type_key1_held(void)
{
	return !(PINC & _BV(PC0));
}

static uint8_t text_blank(void)
{
	return text[0] == 0;
}

static void render_text(const uint8_t *ch, uint8_t n)
{
	uint8_t w = n ? n * 6 - 1 : 0;
	uint8_t x = (COLS - w) / 2;
	for (uint8_t i = 0; i < n; i++, x++) {
		const uint8_t *g = font_glyph(ch[i]);
		for (uint8_t c = 0; c < 5; c++)
			fb[x++] = pgm_read_byte(g + c);
	}
}

static void refresh(void)
{
	uint8_t ch[8], n = 0, number = 0, arrow = 0;
	memset(fb, 0, sizeof fb);
	if (!text_blank()) {
		n = text_decode(text, sizeof text, encoding, ch, 8);
		if (blink_left && phase >= 35)
			n = 0;	/* the dark part of the blink */
		number = window != 0;
		arrow = 1;
	} else if (idle_mode == 1 && unix_time) {
		int32_t t = (int32_t)((unix_time + (int32_t)utc_offset * 60) % 86400UL);
		if (t < 0)
			t += 86400;
		uint8_t h = t / 3600, mi = (t / 60) % 60;
		ch[0] = '0' + h / 10;
		ch[1] = '0' + h % 10;
		ch[2] = (phase < 50) ? ':' : ' ';
		ch[3] = '0' + mi / 10;
		ch[4] = '0' + mi % 10;
		n = 5;
	} else if (idle_mode == 2) {
		number = window != 0;
	}
	render_text(ch, n);

	uint8_t b = brightness;
	if (b != shown_bright) {
		shown_bright = b;
		max_same(0x0A, b ? b : 0);
		max_same(0x0C, b ? 1 : 0);	/* 0: shut down */
	}
	max_same(0x0F, (identify_left && phase < 25) ? 1 : 0);
	for (uint8_t row = 0; row < 8; row++) {
		uint8_t v[NDEV];
		/* the number driver: digits 0-2 code B (0x0F blank), digit 3 the arrow */
		if (row < 3) {
			static const uint16_t pow10[3] PROGMEM = { 100, 10, 1 };
			uint16_t p = pgm_read_word(&pow10[row]);
			uint8_t d = (window / p) % 10;
			v[0] = (number && (window >= p || p == 1)) ? d : 0x0F;
		} else {
			v[0] = (row == 3 && arrow) ? 0xFF : 0;
		}
		for (uint8_t m = 0; m < 6; m++) {
			uint8_t bits = 0;
			for (uint8_t x = 0; x < 8; x++)
				if (fb[8 * m + x] & (1 << row))
					bits |= 0x80 >> x;
			v[1 + m] = bits;
		}
		max_all(row + 1, v);
	}
}

void type_tick(void)
{
	uint8_t old = phase;
	if (++phase == 50)
		phase = 0;
	/* blink phases at 0 and 350 ms; identify at 250 ms; clock colon at 500 ms */
	if ((blink_left && (phase == 0 || phase == 35)) ||
			(identify_left && (phase == 0 || phase == 25)) ||
			(idle_mode == 1 && text_blank() && phase == 0 && old == 49))
		dirty = 1;
	if (brightness != shown_bright)
		dirty = 1;
}

void type_second(void)
{
	if (blink_left) {
		blink_left--;
		dirty = 1;
	}
	if (idle_mode == 1 || identify_left)
		dirty = 1;
}

uint8_t type_poll(void)
{
	if (dirty) {
		dirty = 0;
		refresh();
	}
	return 0;
}

uint16_t type_hregs(void)
{
	return 14;
}

uint16_t type_hreg(uint16_t i)
{
	if (i >= 1 && i <= 8)
		return be16(text + 2 * (i - 1));
	switch (i) {
	case 0: return encoding;
	case 9: return window;
	case 10: return blink;
	case 11: return call_id;
	case 13: return idle_mode;
	}
	return 0;	/* 12 CLEAR reads 0 */
}

uint8_t type_hcheck(uint16_t i, uint16_t v)
{
	switch (i) {
	case 0: return v > 1 ? 3 : 0;
	case 9: return v > 999 ? 3 : 0;
	case 10: return v > 60 ? 3 : 0;
	case 12: return v != 1 ? 3 : 0;
	case 13: return v > 2 ? 3 : 0;
	}
	return 0;
}

void type_hwrite(uint16_t i, uint16_t v)
{
	if (i >= 1 && i <= 8) {
		put16(text + 2 * (i - 1), v);
	} else {
		switch (i) {
		case 0: encoding = v; break;
		case 9: window = v; break;
		case 10: blink = v; blink_left = v; phase = 0; break;
		case 11: call_id = v; break;
		case 12:
			memset(text, 0, sizeof text);
			blink = blink_left = 0;
			call_id = 0;
			break;
		case 13: idle_mode = v; break;
		}
	}
	dirty = 1;
}

void type_hwrite_done(uint16_t first, uint16_t n)
{
	(void)first;
	(void)n;
	dirty = 1;
}

uint16_t type_ireg(uint8_t i)
{
	switch (i) {
	case 0: return text_blank() ? 0 : call_id;
	case 1: return blink_left;
	case 2: return 0;	/* FACE_FAULT: the MAX7219 reports none */
	}
	return 0;
}

void type_host_frame(void) {}
void type_ack(uint16_t seq) { (void)seq; }
void type_events_prepare(void) {}
uint16_t type_events_ireg(uint8_t i) { (void)i; return 0; }
uint16_t type_ev_lost(void) { return 0; }
void beep(uint16_t ms) { (void)ms; }

#endif
