/*
 * Rating panel, type 3, CHG-RP1 (PROTOCOL.md section 8).
 *
 * Board: buttons 1-5 (bad ... excellent) on PC0 PC1 PC2 PC3 PD4, the
 * keypad's keys 1-5, active low with pull-ups, sampled every 10 ms (a
 * change is 3 equal samples, >= 20 ms); their LEDs on PB1-PB5 (high: lit)
 * with the common anode switched by OC0A (PD6), as on the keypad; the
 * thank-you lamp through a MOSFET on OC0B (PD5). Timer0 runs fast PWM at
 * 976 Hz: OC0A is the brightness of the button LEDs and, while a prompt
 * runs, their breathing (hardware PWM, no CPU: the duty follows a squared
 * triangle of 2.56 s, updated every 10 ms tick); OC0B the lamp's
 * brightness. A duty of 0 disconnects the compare output, so dark is
 * dark (fast PWM at OCR 0 would still give a 1/256 pulse).
 *
 * A rating is an event at key-down: the first press of a prompt ends it,
 * queues the button's code in the shared event journal (events.c), lights
 * the thank-you lamp and the pressed button's LED for THANKS_MS. Presses
 * without a prompt make no event and no light. There are no long presses.
 */
#include "fw.h"
#include "events.h"

#if DEVICE_TYPE == 3

#define NBUT 5
#define RETRY_TICKS 100	/* 1 s: a repeated PROMPT after a rating is a retry */

static uint16_t prompt;		/* PROMPT as written while the prompt runs, else 0 */
static uint16_t prompt_ticks;	/* 10 ms ticks left of the prompt */
static uint16_t ended_prompt;	/* the PROMPT value a rating ended ... */
static uint8_t ended_ticks;	/* ... this many ticks ago at most */
static uint8_t leds;		/* LEDS: bits 0-4 button LEDs, bit 5 the lamp */
static uint16_t thanks_ms = 3000;
static uint16_t thanks_ticks;	/* lamp ticks left */
static uint8_t rated;		/* LED bit of the button that rated */
static uint8_t breath;		/* breathing phase, 2.56 s */
static uint8_t phase;		/* 10 ms ticks in a 500 ms period (identify) */
static uint8_t sub100;

/* ---- buttons ---- */

static uint8_t down;		/* debounced: BUTTONS_DOWN */
static uint8_t differ[NBUT];	/* samples in a row that disagreed with down */

static uint8_t buttons_raw(void)
{
	uint8_t k = ~PINC & 0x0F;
	if (!(PIND & _BV(PD4)))
		k |= 0x10;
	return k;
}

static void pressed(uint8_t i)
{
	if (!prompt_ticks)
		return;		/* no prompt: no event */
	ended_prompt = prompt;
	ended_ticks = RETRY_TICKS;
	prompt = prompt_ticks = 0;
	/* a full queue counts the rating in EV_LOST; the visitor is thanked
	 * all the same */
	ev_add(i + 1);
	rated = 1 << i;
	thanks_ticks = (thanks_ms + 9) / 10;
}

static void buttons_tick(void)
{
	uint8_t raw = buttons_raw();
	for (uint8_t i = 0; i < NBUT; i++) {
		uint8_t m = 1 << i;
		if ((raw ^ down) & m) {
			if (++differ[i] < 3)
				continue;
			down ^= m;
			if (down & m)
				pressed(i);
		}
		differ[i] = 0;
	}
}

uint8_t type_key1_held(void)
{
	return !(PINC & _BV(PC0));
}

/* ---- LEDs ---- */

static void leds_show(void)
{
	uint8_t full = brightness * 17, a = full, on;
	if (identify_left) {
		on = phase < 25 ? 0x3F : 0;
	} else if (prompt_ticks) {
		/* breathing: a triangle 0..127..0, squared for the eye */
		uint8_t t = (breath & 0x80) ? (uint8_t)~breath : breath;
		on = 0x1F;
		a = (uint8_t)(((uint16_t)t * t) >> 6) * (uint16_t)full >> 8;
	} else if (thanks_ticks) {
		on = rated | 0x20;
	} else {
		on = leds;
	}
	uint8_t ca = (on & 0x1F) ? a : 0, cb = (on & 0x20) ? full : 0;
	PORTB = (PORTB & ~0x3E) | (on & 0x1F) << 1;
	/* a dark channel keeps OCR 0, so no order of these writes ever
	 * shows a full-on glitch (OCR 255 with the output connected) */
	OCR0A = ca ? ca - 1 : 0;
	OCR0B = cb ? cb - 1 : 0;
	TCCR0A = _BV(WGM01) | _BV(WGM00) | (ca ? _BV(COM0A1) : 0) | (cb ? _BV(COM0B1) : 0);
}

/* ---- the type module ---- */

void type_init(void)
{
	PORTC |= 0x0F;		/* pull-ups */
	PORTD |= _BV(PD4);
	DDRB |= 0x3E;
	DDRD |= _BV(PD5) | _BV(PD6);	/* low while their compare output is off */
	TCCR0B = _BV(CS01) | _BV(CS00);	/* clk/64: 976 Hz */
	ev_init();
	leds_show();
}

void type_tick(void)
{
	if (++phase == 50)
		phase = 0;
	breath++;
	/* the countdowns before the buttons, so THANKS_MS is whole ticks */
	if (prompt_ticks && --prompt_ticks == 0)
		prompt = 0;	/* nobody rated */
	if (thanks_ticks)
		thanks_ticks--;
	if (ended_ticks)
		ended_ticks--;
	buttons_tick();
	if (++sub100 == 10) {
		sub100 = 0;
		ev_tick100();
	}
	leds_show();
}

void type_second(void) {}
uint8_t type_poll(void) { return 0; }
void type_host_frame(void) {}

uint16_t type_hregs(void)
{
	return 3;
}

uint16_t type_hreg(uint16_t i)
{
	switch (i) {
	case 0: return prompt;
	case 1: return leds;
	}
	return thanks_ms;
}

uint8_t type_hcheck(uint16_t i, uint16_t v)
{
	static const uint16_t max[3] PROGMEM = { 600, 0x3F, 10000 };
	return v > pgm_read_word(&max[i]) ? 3 : 0;
}

void type_hwrite(uint16_t i, uint16_t v)
{
	switch (i) {
	case 0:
		/* the same PROMPT within 1 s of the rating that ended it is the
		 * host's retry of a write whose answer was lost: a second prompt
		 * would allow a second rating of the same visit (PROTOCOL.md 8.2) */
		if (v && v == ended_prompt && ended_ticks)
			break;
		if (!v)
			ended_ticks = 0;	/* a deliberate 0 ends the retry window */
		prompt = v;
		prompt_ticks = v * 100;
		breath = 0;
		if (v)
			thanks_ticks = 0;
		break;
	case 1: leds = v; break;
	case 2: thanks_ms = v; break;
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
	switch (i) {
	case 0: return (prompt_ticks + 99) / 100;	/* PROMPT_LEFT, s */
	case 1: return down;				/* BUTTONS_DOWN */
	}
	return 0;
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

void beep(uint16_t ms)
{
	(void)ms;	/* no buzzer */
}

#endif
