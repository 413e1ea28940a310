/*
 * Modbus application layer: functions 03, 04, 06, 0x10, 0x14, 0x15 and
 * 0x2B/0x0E (PROTOCOL.md sections 2, 3, 9), the register blocks and the
 * common registers (section 4). The answer is built in place in mb_buf.
 */
#include <string.h>
#include "fw.h"

uint8_t my_addr = 247;
uint16_t crc_errors;
uint16_t sync_token;
uint8_t brightness = 10;
uint8_t identify_left;
uint8_t status_bits;
uint32_t unix_time;
int16_t utc_offset;
uint8_t restart_pending;
static uint16_t ev_ack;
static uint8_t cfg_new[3];	/* CFG_ADDRESS, CFG_BAUD code, CFG_FORMAT as written */

static const uint16_t baud_div100[5] PROGMEM = { 96, 192, 384, 576, 1152 };

/* ---- blocks ---- */

static uint8_t in_block(uint16_t a, uint16_t n, uint8_t holding)
{
	uint16_t first, size;
	uint32_t end = (uint32_t)a + n;
	if (holding) {
		if (a < 0x0080) { first = 0x0000; size = 12; }
		else if (a < 0x0100) { first = 0x0080; size = 1; }
		else { first = 0x0100; size = type_hregs(); }
	} else {
		if (a < 0x0020) { first = 0x0000; size = 27; }
		else if (a < 0x0040) { first = 0x0020; size = 16; }
		else if (a < 0x0080) { first = 0x0040; size = 8; }
		else { first = 0x0080; size = 8; }
	}
	return a >= first && end <= (uint32_t)first + size;
}

/* ---- input registers ---- */

static uint16_t ireg(uint16_t a)
{
	if (a < 0x0020) {
		if (a == 0) {
			uint16_t s = status_bits;
			uint8_t u = upd_state();
			if (u >= 1 && u <= 3)
				s |= 0x04;
			if (GPIOR0 & BOOTF_TRIAL)
				s |= 0x08;
			if (reset_cause & _BV(WDRF))
				s |= 0x10;
			if (reset_cause & _BV(BORF))
				s |= 0x20;
			return s;
		}
		if (a == 1)
			return sync_token;
		return type_events_ireg(a - 2);
	}
	if (a < 0x0040) {
		switch (a - 0x20) {
		case 0x0: return DEVICE_TYPE;
		case 0x1: return MAP_VERSION;
		case 0x2: return HW_REV;
		case 0x3: return FW_MAJOR;
		case 0x4: return FW_MINOR;
		case 0x5: return FW_PATCH;
		case 0x6: return be16(ee_serial);
		case 0x7: return be16(ee_serial + 2);
		case 0x8: return ee_counters[0] | ee_counters[1] << 8;
		case 0x9: return (uint16_t)uptime_s;
		case 0xA: return reset_cause;
		case 0xB: return crc_errors;
		case 0xC: return type_ev_lost();
		case 0xD: return DEVICE_TYPE == 1 ? 0 : 64;
		}
		return 0;
	}
	if (a < 0x0080)
		return type_ireg(a - 0x40);
	return upd_ireg(a - 0x80);
}

/* ---- holding registers ---- */

static uint16_t hreg(uint16_t a)
{
	if (a >= 0x0100)
		return type_hreg(a - 0x0100);
	switch (a) {
	case 0x0: return sync_token;
	case 0x1: return ev_ack;
	case 0x2: return brightness;
	case 0x3: return unix_time >> 16;
	case 0x4: return unix_time;
	case 0x5: return utc_offset;
	case 0x6: return identify_left;
	case 0x8: return cfg_new[0];
	case 0x9: return pgm_read_word(&baud_div100[cfg_new[1]]);
	case 0xA: return cfg_new[2];
	}
	return 0;	/* 0x7 reserved, 0xB and 0x80 read 0 */
}

static uint8_t is_broadcast_reg(uint16_t a)
{
	return a >= 0x0002 && a <= 0x0005;
}

/* 0 or the exception code */
static uint8_t hcheck(uint16_t a, uint16_t v)
{
	if (a >= 0x0100)
		return type_hcheck(a - 0x0100, v);
	switch (a) {
	case 0x1: return v == 0 ? 3 : 0;
	case 0x2: return v > 15 ? 3 : 0;
	case 0x5: return ((int16_t)v < -840 || (int16_t)v > 840) ? 3 : 0;
	case 0x6: return v > 255 ? 3 : 0;
	case 0x8: return (v < 1 || v > 247) ? 3 : 0;
	case 0x9:
		for (uint8_t i = 0; i < 5; i++)
			if (pgm_read_word(&baud_div100[i]) == v)
				return 0;
		return 3;
	case 0xA: return v > 3 ? 3 : 0;
	case 0xB:
		if (v != 0xA5A5 && v != 0xDEAD)
			return 3;
		return restart_pending ? 6 : 0;
	case 0x80: return upd_command_check(v);
	}
	return 0;
}

static void hwrite(uint16_t a, uint16_t v)
{
	if (a >= 0x0100) {
		type_hwrite(a - 0x0100, v);
		return;
	}
	switch (a) {
	case 0x0: sync_token = v; break;
	case 0x1: ev_ack = v; type_ack(v); break;
	case 0x2: brightness = v; break;
	case 0x3: unix_time = (unix_time & 0xFFFF) | (uint32_t)v << 16; break;
	case 0x4: unix_time = (unix_time & 0xFFFF0000UL) | v; break;
	case 0x5: utc_offset = v; break;
	case 0x6: identify_left = v; break;
	case 0x8: cfg_new[0] = v; break;
	case 0x9:
		for (uint8_t i = 0; i < 5; i++)
			if (pgm_read_word(&baud_div100[i]) == v)
				cfg_new[1] = i;
		break;
	case 0xA: cfg_new[2] = v; break;
	case 0xB:
		if (v == 0xA5A5) {
			ee_cfg[0] = 0xC5;
			ee_cfg[1] = cfg_new[0];
			ee_cfg[2] = cfg_new[1];
			ee_cfg[3] = cfg_new[2];
			ee_cfg[4] = brightness;
			ee_cfg[5] = ee_cfg[6] = 0xFF;
			ee_cfg[7] = crc8(ee_cfg, 7);
			eew_dirty(U_CFG);
			restart_pending = 2;
		} else {
			restart_pending = 1;
		}
		break;
	case 0x80: upd_command(v); break;
	}
}

/* the settings at reset: EEPROM, or the defaults (address 247, 19200 8E1) */
void cfg_load(uint8_t *baud, uint8_t *format)
{
	uint8_t *c = ee_cfg;
	if (c[0] == 0xC5 && crc8(c, 7) == c[7] && c[1] >= 1 && c[1] <= 247 &&
			c[2] <= 4 && c[3] <= 3 && c[4] <= 15) {
		my_addr = c[1];
		*baud = c[2];
		*format = c[3];
		brightness = c[4];
	} else {
		status_bits |= ST_CFG_FAULT;
		my_addr = 247;
		*baud = 1;
		*format = 0;
		brightness = 10;
	}
	cfg_new[0] = my_addr;
	cfg_new[1] = *baud;
	cfg_new[2] = *format;
}

/* ---- functions ---- */

static uint8_t exc(uint8_t *p, uint8_t code)
{
	p[0] |= 0x80;
	p[1] = code;
	return 2;
}

static const char vendor[] PROGMEM = "cherga";
#if DEVICE_TYPE == 1
static const char product[] PROGMEM = "CHG-WD1";
static const char model[] PROGMEM = "window display 8x1";
#elif DEVICE_TYPE == 2
static const char product[] PROGMEM = "CHG-KP1";
static const char model[] PROGMEM = "operator keypad 2x20";
#else
static const char product[] PROGMEM = "CHG-RP1";
static const char model[] PROGMEM = "rating panel 5";
#endif
static const char revision[] PROGMEM = FW_VERSION_STR;

static const char *ident_obj(uint8_t id)
{
	switch (id) {
	case 0: return vendor;
	case 1: return product;
	case 2: return revision;
	case 5: return model;
	}
	return 0;
}

static uint8_t put_obj(uint8_t *q, uint8_t id)
{
	const char *s = ident_obj(id);
	uint8_t n = strlen_P(s);
	q[0] = id;
	q[1] = n;
	memcpy_P(q + 2, s, n);
	return n + 2;
}

static uint8_t ident(uint8_t *p, uint8_t plen)
{
	if (plen < 2 || p[1] != 0x0E)
		return exc(p, 1);
	if (plen != 4)
		return exc(p, 3);
	uint8_t code = p[2], obj = p[3];
	if (code < 1 || code > 4)
		return exc(p, 3);
	p[3] = 0x82;	/* conformity: regular, stream and individual */
	p[4] = 0;	/* more follows */
	p[5] = 0;	/* next object */
	uint8_t n = 7, count = 0;
	if (code == 4) {
		if (!ident_obj(obj))
			return exc(p, 2);
		n += put_obj(p + n, obj);
		count = 1;
	} else {
		static const uint8_t order[4] PROGMEM = { 0, 1, 2, 5 };
		uint8_t last = code == 1 ? 3 : 4, i = 0;
		while (i < last && pgm_read_byte(&order[i]) != obj)
			i++;
		if (i == last)
			i = 0;
		for (; i < last; i++, count++)
			n += put_obj(p + n, pgm_read_byte(&order[i]));
	}
	p[6] = count;
	return n;
}

static uint8_t read_regs(uint8_t *p, uint8_t plen, uint8_t holding)
{
	if (plen != 5)
		return exc(p, 3);
	uint16_t a = be16(p + 1), q = be16(p + 3);
	if (q < 1 || q > 125)
		return exc(p, 3);
	if (!in_block(a, q, holding))
		return exc(p, 2);
	if (!holding && a < 0x0020)
		type_events_prepare();
	p[1] = 2 * q;
	for (uint8_t i = 0; i < q; i++)
		put16(p + 2 + 2 * i, holding ? hreg(a + i) : ireg(a + i));
	return 2 + 2 * q;
}

/* 06 and 0x10: check everything, then apply together */
static uint8_t write_regs(uint8_t *p, uint8_t plen, uint8_t bcast)
{
	uint16_t a, q;
	const uint8_t *v;
	if (p[0] == 0x06) {
		if (plen != 5)
			return exc(p, 3);
		a = be16(p + 1);
		q = 1;
		v = p + 3;
	} else {
		if (plen < 6)
			return exc(p, 3);
		a = be16(p + 1);
		q = be16(p + 3);
		if (q < 1 || q > 123 || p[5] != 2 * q || plen != 6 + 2 * q)
			return exc(p, 3);
		v = p + 6;
	}
	if (!in_block(a, q, 1))
		return exc(p, 2);
	for (uint16_t i = 0; i < q; i++) {
		if (bcast && !is_broadcast_reg(a + i))
			return 0;	/* a broadcast of other registers is ignored */
		uint8_t e = hcheck(a + i, be16(v + 2 * i));
		if (e)
			return exc(p, e);
	}
	for (uint16_t i = 0; i < q; i++)
		hwrite(a + i, be16(v + 2 * i));
	if (a + q > 0x0100 && a < 0x0100 + type_hregs())
		type_hwrite_done(a - 0x0100, q);
	return 5;	/* 06: the echo; 0x10: function, address, quantity */
}

static uint8_t read_file(uint8_t *p, uint8_t plen)
{
	if (plen < 2 || plen != 2 + p[1] || p[1] < 7 || p[1] > 0xF5 || p[1] % 7)
		return exc(p, 3);
	if (p[1] != 7)
		return exc(p, 3);	/* one sub-request per frame */
	uint16_t file = be16(p + 3), rec = be16(p + 5), n = be16(p + 7);
	if (p[2] != 6 || file == 0 || rec > 9999)
		return exc(p, 2);
	uint8_t len;
	uint8_t e = upd_read_file(file, rec, n, p + 4, &len);
	if (e)
		return exc(p, e);
	/* 14 bytes {len 06 data} */
	p[1] = len + 2;
	p[2] = len + 1;
	p[3] = 6;
	return 4 + len;
}

static uint8_t write_file(uint8_t *p, uint8_t plen)
{
	if (plen < 2 || plen != 2 + p[1] || p[1] < 9 || p[1] > 0xFB)
		return exc(p, 3);
	uint16_t file = be16(p + 3), rec = be16(p + 5), n = be16(p + 7);
	if (p[2] != 6 || file == 0 || rec > 9999)
		return exc(p, 2);
	if (p[1] != 7 + 2 * n)
		return exc(p, 3);	/* one sub-request per frame */
	uint8_t e = upd_write_file(file, rec, n, p + 9);
	if (e)
		return exc(p, e);
	return plen;	/* the echo */
}

static uint8_t pdu(uint8_t *p, uint8_t plen, uint8_t bcast)
{
	switch (p[0]) {
	case 0x03:
	case 0x04:
		return bcast ? 0 : read_regs(p, plen, p[0] == 0x03);
	case 0x06:
	case 0x10:
		return write_regs(p, plen, bcast);
	}
	if (bcast)
		return 0;
	switch (p[0]) {
	case 0x14: return read_file(p, plen);
	case 0x15: return write_file(p, plen);
	case 0x2B: return ident(p, plen);
	}
	return exc(p, 1);
}

void pdu_frame(void)
{
	uint16_t len = mb_len;
	if (len < 4 || crc16(mb_buf, len) != 0) {
		crc_errors++;
		mb_done();
		return;
	}
	uint8_t addr = mb_buf[0];
	if (addr != my_addr && addr != 0) {
		mb_done();
		return;
	}
	if (addr)
		type_host_frame();
	uint8_t n = pdu(mb_buf + 1, len - 3, addr == 0);
	if (addr == 0 || n == 0)
		mb_done();
	else
		mb_send(n + 1);
}
