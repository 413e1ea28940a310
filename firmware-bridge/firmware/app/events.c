/*
 * The event queue of the keypad and the rating panel (PROTOCOL.md
 * section 5): 64 slots, each
 * the EEPROM journal entry (seq low, seq high, code, state 0xFF pending /
 * 0x00 acknowledged) mirrored in RAM, plus an age in 100 ms units. Slots
 * are used in ring order, so ring order from the write position is
 * sequence order, also after a power cut. An event is offered (counted in
 * EV_PENDING, listed at I 0x0003...) only once its slot is in EEPROM.
 */
#include "fw.h"
#include "events.h"

#define NSLOT 64

static uint8_t wr;		/* next slot to write: the oldest in ring order */
static uint16_t next_seq = 1;
static uint16_t age[NSLOT];	/* 100 ms units, 0xFFFF: before this power-on */
static uint16_t lost;		/* EV_LOST, kept in EEPROM with BOOT_COUNT */

static uint8_t *slot(uint8_t i)
{
	return ee_journal + 4 * i;
}

static uint16_t seq_of(uint8_t i)
{
	return slot(i)[0] | slot(i)[1] << 8;
}

static uint8_t code_ok(uint8_t c)
{
	uint8_t k = c & 0x7F;
	return (k >= 0x01 && k <= 0x07) || (k >= 0x10 && k <= 0x19);
}

/* a slot that holds an event at all (acknowledged or not) */
static uint8_t used(uint8_t i)
{
	return code_ok(slot(i)[2]) && seq_of(i) != 0;
}

static uint8_t pending(uint8_t i)
{
	return used(i) && slot(i)[3] == 0xFF;
}

static uint8_t offered(uint8_t i)
{
	return pending(i) && eew_clean(U_JOURNAL0 + i);
}

void ev_init(void)
{
	uint8_t found = 0, top = 0;
	uint16_t best = 0;
	lost = ee_counters[2] | ee_counters[3] << 8;
	for (uint8_t i = 0; i < NSLOT; i++) {
		age[i] = 0xFFFF;
		if (!used(i))
			continue;
		uint8_t *s = slot(i);
		if (s[3] != 0xFF && s[3] != 0x00) {
			s[3] = 0x00;	/* torn: treat as acknowledged */
			eew_dirty(U_JOURNAL0 + i);
		}
		uint16_t q = seq_of(i);
		if (!found || (int16_t)(q - best) > 0) {
			best = q;
			top = i;
			found = 1;
		}
	}
	if (found) {
		next_seq = best + 1;
		if (next_seq == 0)
			next_seq = 1;
		wr = (top + 1) % NSLOT;
	}
}

uint8_t ev_add(uint8_t code)
{
	uint8_t n = 0;
	for (uint8_t i = 0; i < NSLOT; i++)
		n += pending(i);
	if (n >= NSLOT || pending(wr)) {
		/* full: dropped, counted, STATUS bit 6 */
		if (lost < 0xFFFF)
			lost++;
		ee_counters[2] = lost;
		ee_counters[3] = lost >> 8;
		eew_dirty(U_COUNTERS);
		status_bits |= ST_EV_OVERFLOW;
		return 1;
	}
	uint8_t *s = slot(wr);
	s[0] = next_seq;
	s[1] = next_seq >> 8;
	s[2] = code;
	s[3] = 0xFF;
	age[wr] = 0;
	eew_dirty(U_JOURNAL0 + wr);
	wr = (wr + 1) % NSLOT;
	if (++next_seq == 0)
		next_seq = 1;
	return 0;
}

uint16_t ev_lost(void)
{
	return lost;
}

void ev_ack(uint16_t s)
{
	for (uint8_t i = 0; i < NSLOT; i++)
		if (offered(i) && (int16_t)(s - seq_of(i)) >= 0) {
			slot(i)[3] = 0x00;
			eew_dirty(U_JOURNAL0 + i);
		}
}

void ev_tick100(void)
{
	for (uint8_t i = 0; i < NSLOT; i++)
		if (age[i] < 0xFFFE)
			age[i]++;
}

static uint8_t n_offered, list[8];

/* called before a read of the poll block: the offered events, oldest first */
void ev_prepare(void)
{
	n_offered = 0;
	for (uint8_t k = 0, j = wr; k < NSLOT; k++, j = (j + 1) % NSLOT)
		if (offered(j)) {
			if (n_offered < 8)
				list[n_offered] = j;
			n_offered++;
		}
}

/* I 0x0002 + i: EV_PENDING, then 8 x (SEQ, CODE, AGE), oldest first */
uint16_t ev_ireg(uint8_t i)
{
	if (i == 0)
		return n_offered;
	uint8_t e = (i - 1) / 3;
	if (e >= n_offered)
		return 0;
	uint8_t j = list[e], *s = slot(j);
	switch ((i - 1) % 3) {
	case 0: return seq_of(j);
	case 1: return (s[2] & 0x7F) | ((s[2] & 0x80) ? 0x0100 : 0);
	}
	return age[j];
}
