/*
 * cherga reference firmware for the ATmega328P: one application, built
 * per device type (DEVICE_TYPE 1 window display, 2 operator keypad, 3
 * rating panel) and
 * per slot (linked at 0x0000 for A, 0x3800 for B). PROTOCOL.md is the
 * contract; this header is what the modules share.
 */
#ifndef CHERGA_FW_H
#define CHERGA_FW_H

#include <stdint.h>
#include <avr/io.h>
#include <avr/pgmspace.h>
#include "bootapi.h"

#if !defined(DEVICE_TYPE) || DEVICE_TYPE < 1 || DEVICE_TYPE > 3
#error DEVICE_TYPE must be 1 (window display), 2 (keypad) or 3 (rating panel)
#endif
#ifndef FW_MAJOR
#define FW_MAJOR 1
#define FW_MINOR 0
#define FW_PATCH 0
#endif
#define HW_REV 1
#define MAP_VERSION 1

#define STR_(x) #x
#define STR(x) STR_(x)
#define FW_VERSION_STR STR(FW_MAJOR) "." STR(FW_MINOR) "." STR(FW_PATCH)

/* ---- mb.c: RTU link (USART0, Timer1 for t1.5/t3.5, DE on PD2) ---- */
#define MB_BUF 256
enum { MB_IDLE, MB_RX, MB_WAIT, MB_READY, MB_TX };
extern uint8_t mb_buf[MB_BUF];
extern volatile uint8_t mb_state;
extern volatile uint16_t mb_len;
void mb_init(uint8_t baud_code, uint8_t format);
void mb_send(uint16_t len);	/* appends the CRC, transmits mb_buf[0..len) */
void mb_done(void);		/* frame handled, no answer */
uint16_t crc16(const uint8_t *p, uint16_t n);

/* ---- pdu.c: functions, blocks, common registers ---- */
void pdu_frame(void);		/* mb_state == MB_READY: handle mb_buf */
void cfg_load(uint8_t *baud, uint8_t *format);
extern uint8_t my_addr;
extern uint16_t crc_errors;
extern uint16_t sync_token;
extern uint8_t brightness;
extern uint8_t identify_left;
extern uint8_t status_bits;	/* STATUS bits 0, 1, 6, 7 set by modules */
#define ST_CFG_FAULT 0x01
#define ST_EE_FAULT 0x02
#define ST_EV_OVERFLOW 0x40
#define ST_HOST_TIMEOUT 0x80
extern uint32_t unix_time;	/* 0 until set */
extern int16_t utc_offset;
extern uint8_t restart_pending;	/* 1 restart, 2 restart once EEPROM is saved, 3 commit */

/* ---- main.c ---- */
extern volatile uint8_t ticks10;	/* 10 ms ticks not yet handled */
extern uint32_t uptime_s;
extern uint8_t reset_cause;	/* MCUSR at reset */
void beep(uint16_t ms);

/* ---- eew.c: EEPROM, written in the background from RAM mirrors ---- */
#define EE_CFG 0x000	/* 8: magic, address, baud code, format, brightness, -, -, crc8 */
#define EE_SERIAL 0x008	/* 5: serial (big-endian), crc8 */
#define EE_COUNTERS 0x010	/* 4: boot count, EV_LOST (little-endian) */
#define EE_MANIFEST 0x020	/* 56: 54 manifest bytes, CRC-16 (low, high) */
#define EE_UPD 0x058	/* 2: chunks held, its complement */
#define EE_JOURNAL 0x100	/* 64 x 4: seq lo, seq hi, code, state */
enum { U_CFG, U_SERIAL, U_COUNTERS, U_MANIFEST, U_UPD, U_JOURNAL0, U_COUNT = U_JOURNAL0 + 64 };
extern uint8_t ee_cfg[8];
extern uint8_t ee_serial[5];
extern uint8_t ee_counters[4];
extern uint8_t ee_manifest[56];
extern uint8_t ee_upd[2];
extern uint8_t ee_journal[256];
void eew_load(void);		/* fill the mirrors from EEPROM (at reset) */
void eew_dirty(uint8_t unit);	/* the mirror changed: write it */
uint8_t eew_clean(uint8_t unit);	/* mirror == EEPROM */
uint8_t eew_busy(void);
uint8_t crc8(const uint8_t *p, uint8_t n);

/* ---- update.c: manifest, chunks, verify, commit, confirm ---- */
void upd_init(void);
void upd_step(void);		/* background work (SHA-256 of the staged image) */
uint8_t upd_busy(void);		/* has background work */
void upd_second(void);
uint16_t upd_ireg(uint8_t i);	/* I 0x0080 + i */
uint8_t upd_command_check(uint16_t v);
void upd_command(uint16_t v);
uint8_t upd_read_file(uint16_t file, uint16_t rec, uint16_t n, uint8_t *out, uint8_t *outlen);
uint8_t upd_write_file(uint16_t file, uint16_t rec, uint16_t n, const uint8_t *data);
uint8_t upd_state(void);
void upd_restart(void);		/* restart_pending 3: commit, then reset */
uint32_t crc32(const uint8_t *p, uint16_t n);

/* ---- type module: display.c, keypad.c or rating.c ---- */
void type_init(void);
void type_tick(void);		/* every 10 ms */
void type_second(void);
uint8_t type_poll(void);	/* main loop, when nothing else is due; 1: more to do */
uint16_t type_hregs(void);	/* number of type holding registers at 0x0100 */
uint16_t type_hreg(uint16_t i);
uint8_t type_hcheck(uint16_t i, uint16_t v);
void type_hwrite(uint16_t i, uint16_t v);
void type_hwrite_done(uint16_t first, uint16_t n);
uint16_t type_ireg(uint8_t i);	/* I 0x0040 + i */
void type_host_frame(void);	/* a good frame addressed to us arrived */
void type_ack(uint16_t seq);	/* EV_ACK written */
void type_events_prepare(void);	/* before a read of I 0x0000-0x001A */
uint16_t type_events_ireg(uint8_t i);	/* I 0x0002 + i (0 on a display) */
uint16_t type_ev_lost(void);
uint8_t type_key1_held(void);	/* the factory-reset key at power-up */

/* ---- text.c, font.c ---- */
#define CH_BOX 0x7F
uint8_t text_decode(const uint8_t *raw, uint8_t rawlen, uint8_t enc, uint8_t *out, uint8_t max);
const uint8_t *font_glyph(uint8_t c);	/* 5 columns in flash, bit 0 = top row */

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)p[0] << 8 | p[1]; }
static inline void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }

#endif
