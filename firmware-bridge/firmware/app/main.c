/*
 * Start-up and main loop. Interrupts do the byte work (USART, frame
 * timer, EEPROM writer, 10 ms tick); the loop handles a received frame,
 * the ticks, the update engine's background work and the type module's
 * face, and sleeps (idle mode) when none of them is due.
 */
#include <avr/interrupt.h>
#include <avr/sleep.h>
#include <avr/wdt.h>
#include "fw.h"

volatile uint8_t ticks10;
uint32_t uptime_s;
uint8_t reset_cause;
static uint8_t tick_phase;
static uint8_t sub_s;

/* Timer2, CTC, clk/1024: 156.25 counts are 10 ms, so three periods of
 * 156 and one of 157 */
ISR(TIMER2_COMPA_vect)
{
	ticks10++;
	tick_phase = (tick_phase + 1) & 3;
	OCR2A = tick_phase == 3 ? 156 : 155;
}

static void make_serial(void)
{
	/* an open ADC input and the timer's phase against it */
	ADMUX = _BV(REFS0) | 7;
	ADCSRA = _BV(ADEN) | _BV(ADPS2) | _BV(ADPS1) | _BV(ADPS0);
	uint8_t raw[32];
	for (uint8_t i = 0; i < sizeof raw; i++) {
		ADCSRA |= _BV(ADSC);
		while (ADCSRA & _BV(ADSC))
			;
		raw[i] = ADCL ^ (ADCH << 4) ^ TCNT2 ^ (uint8_t)(i * 37);
	}
	ADCSRA = 0;
	uint32_t s = crc32(raw, sizeof raw);
	if (s == 0 || s == 0xFFFFFFFFUL)
		s ^= 0x5A5A1234UL;
	ee_serial[0] = s >> 24;
	ee_serial[1] = s >> 16;
	ee_serial[2] = s >> 8;
	ee_serial[3] = s;
	ee_serial[4] = crc8(ee_serial, 4);
	eew_dirty(U_SERIAL);
}

static void factory_reset_check(void)
{
	/* the first key held for 5 s at power-up: address 247, 19200 8E1 */
	uint16_t held = 0;
	while (type_key1_held()) {
		wdt_reset();
		if (ticks10) {
			ticks10 = 0;
			if (++held >= 500)
				break;
		}
	}
	if (held < 500)
		return;
	ee_cfg[0] = 0xC5;
	ee_cfg[1] = 247;
	ee_cfg[2] = 1;
	ee_cfg[3] = 0;
	ee_cfg[4] = 10;
	ee_cfg[5] = ee_cfg[6] = 0xFF;
	ee_cfg[7] = crc8(ee_cfg, 7);
	eew_dirty(U_CFG);
	while (eew_busy())
		wdt_reset();
}

int main(void)
{
	reset_cause = GPIOR1;
	wdt_enable(WDTO_2S);

	TCCR2A = _BV(WGM21);
	OCR2A = 155;
	TIMSK2 = _BV(OCIE2A);
	TCCR2B = _BV(CS22) | _BV(CS21) | _BV(CS20);
	sei();

	eew_load();
	if (crc8(ee_serial, 4) != ee_serial[4] ||
			(ee_serial[0] & ee_serial[1] & ee_serial[2] & ee_serial[3]) == 0xFF ||
			(ee_serial[0] | ee_serial[1] | ee_serial[2] | ee_serial[3]) == 0) {
		/* first power-on (or a wiped EEPROM): counters from 0, a new serial */
		for (uint8_t i = 0; i < sizeof ee_counters; i++)
			ee_counters[i] = 0;
		make_serial();
	}
	uint16_t boots = (ee_counters[0] | ee_counters[1] << 8) + 1;
	ee_counters[0] = boots;
	ee_counters[1] = boots >> 8;
	eew_dirty(U_COUNTERS);

	type_init();
	factory_reset_check();
	uint8_t baud, format;
	cfg_load(&baud, &format);
	upd_init();
	mb_init(baud, format);

	set_sleep_mode(SLEEP_MODE_IDLE);
	for (;;) {
		wdt_reset();
		if (mb_state == MB_READY)
			pdu_frame();
		if (ticks10) {
			cli();
			ticks10--;
			sei();
			type_tick();
			if (++sub_s == 100) {
				sub_s = 0;
				uptime_s++;
				if (unix_time)
					unix_time++;
				if (identify_left)
					identify_left--;
				upd_second();
				type_second();
			}
			continue;
		}
		if (restart_pending && mb_state == MB_IDLE &&
				(restart_pending != 2 || !eew_busy())) {
			if (restart_pending == 3)
				upd_restart();
			cli();
			wdt_enable(WDTO_15MS);
			for (;;)
				;
		}
		if (upd_busy()) {
			upd_step();
			continue;
		}
		uint8_t more = type_poll();
		cli();
		if (!more && mb_state != MB_READY && !ticks10) {
			sleep_enable();
			sei();
			sleep_cpu();
			sleep_disable();
		}
		sei();
	}
}
