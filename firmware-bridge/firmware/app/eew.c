/*
 * EEPROM: every persistent value has a RAM mirror; a change marks its
 * unit dirty and the EE_READY interrupt writes the bytes that differ, one
 * per 3.4 ms, so the bus never waits for the EEPROM. Units are written in
 * index order (the manifest before the chunk count that refers to it) and
 * the bytes of a unit in address order (so a unit's check byte, placed
 * last, is written last). A journal slot that gets a new event is first
 * marked acknowledged, so a torn write never looks like a pending event.
 */
#include <avr/interrupt.h>
#include "fw.h"

uint8_t ee_cfg[8];
uint8_t ee_serial[5];
uint8_t ee_counters[4];
uint8_t ee_manifest[56];
uint8_t ee_upd[2];
uint8_t ee_journal[256];

static uint8_t dirty[(U_COUNT + 7) / 8];
static uint8_t cur = 0xFF;	/* unit being written, 0xFF none */
static uint8_t tries;
static uint16_t last_addr = 0xFFFF;

uint8_t crc8(const uint8_t *p, uint8_t n)
{
	uint8_t c = 0;
	while (n--) {
		c ^= *p++;
		for (uint8_t i = 0; i < 8; i++)
			c = (c & 0x80) ? (uint8_t)(c << 1) ^ 0x07 : (uint8_t)(c << 1);
	}
	return c;
}

static void unit(uint8_t u, uint16_t *addr, uint8_t **ram, uint8_t *len)
{
	if (u >= U_JOURNAL0) {
		uint8_t s = u - U_JOURNAL0;
		*addr = EE_JOURNAL + 4 * s;
		*ram = ee_journal + 4 * s;
		*len = 4;
		return;
	}
	switch (u) {
	case U_CFG: *addr = EE_CFG; *ram = ee_cfg; *len = sizeof ee_cfg; break;
	case U_SERIAL: *addr = EE_SERIAL; *ram = ee_serial; *len = sizeof ee_serial; break;
	case U_COUNTERS: *addr = EE_COUNTERS; *ram = ee_counters; *len = sizeof ee_counters; break;
	case U_MANIFEST: *addr = EE_MANIFEST; *ram = ee_manifest; *len = sizeof ee_manifest; break;
	default: *addr = EE_UPD; *ram = ee_upd; *len = sizeof ee_upd; break;
	}
}

/* only with interrupts off and no write in progress */
static uint8_t rd(uint16_t a)
{
	EEAR = a;
	EECR |= _BV(EERE);
	return EEDR;
}

static void wr(uint16_t a, uint8_t v)
{
	EEAR = a;
	EEDR = v;
	__asm__ __volatile__(
		"sbi %0, %1\n\t"
		"sbi %0, %2\n\t"
		:: "I"(_SFR_IO_ADDR(EECR)), "I"(EEMPE), "I"(EEPE));
}

/* the next byte of unit u to write, or 0 when EEPROM equals the mirror */
static uint8_t next_byte(uint8_t u, uint16_t *a, uint8_t *v)
{
	uint16_t addr;
	uint8_t *ram, len;
	unit(u, &addr, &ram, &len);
	if (u >= U_JOURNAL0 && ram[3] == 0xFF && rd(addr + 3) != 0x00) {
		/* a new event: neutralise the slot before its bytes change */
		for (uint8_t i = 0; i < 3; i++)
			if (rd(addr + i) != ram[i]) {
				*a = addr + 3;
				*v = 0x00;
				return 1;
			}
	}
	for (uint8_t i = 0; i < len; i++)
		if (rd(addr + i) != ram[i]) {
			*a = addr + i;
			*v = ram[i];
			return 1;
		}
	return 0;
}

/* interrupts off, EEPE clear: start the next write or go idle */
static void step(void)
{
	for (;;) {
		if (cur == 0xFF) {
			for (uint8_t u = 0; u < U_COUNT; u++)
				if (dirty[u >> 3] & (1 << (u & 7))) {
					cur = u;
					break;
				}
			if (cur == 0xFF) {
				EECR &= ~_BV(EERIE);
				return;
			}
			tries = 0;
			last_addr = 0xFFFF;
		}
		uint16_t a;
		uint8_t v;
		if (next_byte(cur, &a, &v)) {
			if (a == last_addr && ++tries >= 3) {
				/* the cell does not take it: give the unit up */
				status_bits |= ST_EE_FAULT;
			} else {
				if (a != last_addr)
					tries = 0;
				last_addr = a;
				wr(a, v);
				EECR |= _BV(EERIE);
				return;
			}
		}
		dirty[cur >> 3] &= ~(1 << (cur & 7));
		cur = 0xFF;
	}
}

ISR(EE_READY_vect)
{
	if (EECR & _BV(EEPE))
		return;
	step();
}

void eew_dirty(uint8_t u)
{
	uint8_t s = SREG;
	cli();
	dirty[u >> 3] |= 1 << (u & 7);
	if (cur == u)
		tries = 0;
	if (!(EECR & _BV(EERIE)) && !(EECR & _BV(EEPE)))
		step();
	else
		EECR |= _BV(EERIE);
	SREG = s;
}

uint8_t eew_clean(uint8_t u)
{
	return !(dirty[u >> 3] & (1 << (u & 7)));
}

uint8_t eew_busy(void)
{
	for (uint8_t i = 0; i < sizeof dirty; i++)
		if (dirty[i])
			return 1;
	return (EECR & _BV(EEPE)) != 0;
}

void eew_load(void)
{
	for (uint8_t u = 0; u < U_COUNT; u++) {
		uint16_t addr;
		uint8_t *ram, len;
		unit(u, &addr, &ram, &len);
		cli();
		while (EECR & _BV(EEPE))
			;
		for (uint8_t i = 0; i < len; i++)
			ram[i] = rd(addr + i);
		sei();
	}
}
