/*
 * Firmware update, device side (PROTOCOL.md section 10): the manifest as
 * file 1, the image as file 2 in 128-byte chunks with a CRC-32 each,
 * written page by page into the inactive slot through the bootloader;
 * SHA-256 of the staged image in the background; commit, trial, confirm
 * and revert with the bootloader's boot state.
 */
#include <string.h>
#include "fw.h"
#include "sha256.h"

static uint8_t st;		/* UPD_STATE */
static uint8_t held;		/* CHUNKS_HELD */
static uint8_t err;		/* LAST_ERROR */
static uint8_t trial_left;	/* TRIAL_LEFT */
static uint8_t confirmed;	/* this boot's trial was confirmed */
static uint16_t vpos;
static sha256_ctx sha;

static const uint32_t crc32_nib[16] PROGMEM = {
	0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
	0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C, 0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t crc32(const uint8_t *p, uint16_t n)
{
	uint32_t c = 0xFFFFFFFFUL;
	while (n--) {
		c ^= *p++;
		c = (c >> 4) ^ pgm_read_dword(&crc32_nib[c & 15]);
		c = (c >> 4) ^ pgm_read_dword(&crc32_nib[c & 15]);
	}
	return ~c;
}

static uint8_t running(void)
{
	return GPIOR0 & BOOTF_SLOT_B;
}

static uint16_t m(uint8_t r)
{
	return be16(ee_manifest + 2 * r);
}

static uint8_t manifest_valid(void)
{
	return crc16(ee_manifest, 54) == (uint16_t)(ee_manifest[54] | ee_manifest[55] << 8) &&
		m(0) == 0x4346;
}

static uint16_t msize(void)
{
	return m(8);	/* m(7), the high word, is 0 in any accepted manifest */
}

static uint8_t nchunks(void)
{
	return (msize() + 127) / 128;
}

static uint16_t staged_base(void)
{
	return m(10) ? SLOT_B : SLOT_A;
}

static void save_held(void)
{
	ee_upd[0] = held;
	ee_upd[1] = ~held;
	eew_dirty(U_UPD);
}

static void forget_manifest(void)
{
	ee_manifest[54] ^= 0xFF;	/* the CRC no longer matches */
	eew_dirty(U_MANIFEST);
	held = 0;
	save_held();
}

void upd_init(void)
{
	uint8_t f = GPIOR0;
	if (f & BOOTF_TRIAL) {
		st = 6;
		trial_left = 60;
		return;
	}
	if (f & BOOTF_REVERTED) {
		st = 7;
		err = 12;
	}
	if (manifest_valid() && m(10) == (running() ^ 1)) {
		if ((uint8_t)(ee_upd[1] ^ ee_upd[0]) == 0xFF && ee_upd[0] <= nchunks())
			held = ee_upd[0];
		if (!st)
			st = 1;
	}
}

uint8_t upd_state(void)
{
	return st;
}

uint16_t upd_ireg(uint8_t i)
{
	switch (i) {
	case 0: return st;
	case 1: return held;
	case 2: return running();
	case 3: return SLOT_PAGES;
	case 4: return PAGE_BYTES;
	case 5: return err;
	case 6: return trial_left;
	}
	return 0;
}

uint8_t upd_busy(void)
{
	return st == 2;
}

void upd_step(void)
{
	uint16_t size = msize(), base = staged_base();
	for (uint8_t n = 64; n && vpos < size; n--, vpos++)
		sha256_byte(&sha, pgm_read_byte(base + vpos));
	if (vpos < size)
		return;
	uint8_t d[32];
	sha256_final(&sha, d);
	if (memcmp(d, ee_manifest + 22, 32) == 0) {
		st = 3;
	} else {
		st = 4;
		err = 10;
	}
}

void upd_second(void)
{
	if (st == 6 && trial_left && --trial_left == 0)
		restart_pending = 1;	/* not confirmed in 60 s: the bootloader reverts */
}

uint8_t upd_command_check(uint16_t v)
{
	if (st == 2)
		return 6;
	switch (v) {
	case 2:
		/* 3 too: a repeated VERIFY (its answer lost) verifies again */
		if ((st == 1 || st == 3 || st == 4 || st == 7) && manifest_valid() && held == nchunks())
			return 0;
		err = st == 6 ? 13 : 7;
		return 3;
	case 3:
		if (st == 3)
			return 0;
		err = st == 6 ? 13 : 11;
		return 3;
	case 4:
		if (st == 6 || (st == 0 && confirmed))
			return 0;	/* a repeated CONFIRM answers as the first did */
		err = 11;
		return 3;
	case 5:
		if (st != 6)
			return 0;
		err = 13;
		return 3;
	}
	return 3;
}

void upd_command(uint16_t v)
{
	switch (v) {
	case 2:
		st = 2;
		vpos = 0;
		sha256_init(&sha);
		break;
	case 3:
		st = 5;
		restart_pending = 3;
		break;
	case 4:
		if (st == 6) {
			boot_confirm();
			forget_manifest();
			st = 0;
			trial_left = 0;
			confirmed = 1;
		}
		break;
	case 5:
		forget_manifest();
		st = 0;
		break;
	}
}

void upd_restart(void)
{
	boot_commit();
}

uint8_t upd_read_file(uint16_t file, uint16_t rec, uint16_t n, uint8_t *out, uint8_t *len)
{
	if (file == 1) {
		if (rec != 0 || !manifest_valid())
			return 2;
		if (n < 1 || n > 27)
			return 3;
		memcpy(out, ee_manifest, 2 * n);
		*len = 2 * n;
		return 0;
	}
	if (file == 2) {
		if (!manifest_valid() || rec >= held)
			return 2;
		if (n != 66)
			return 3;
		uint16_t a = staged_base() + PAGE_BYTES * rec;
		memcpy_P(out, (const void *)a, PAGE_BYTES);
		uint32_t c = crc32(out, PAGE_BYTES);
		put16(out + 128, c >> 16);
		put16(out + 130, c);
		*len = 132;
		return 0;
	}
	return 2;
}

static uint8_t refuse(uint8_t e)
{
	err = e;
	return 3;
}

static uint8_t write_manifest(const uint8_t *d)
{
#define F(r) be16(d + 2 * (r))
	if (F(0) != 0x4346 || F(1) != 1)
		return refuse(1);
	if (F(2) != DEVICE_TYPE)
		return refuse(2);
	if (F(3) != HW_REV)
		return refuse(3);
	if (F(10) != (running() ^ 1))
		return refuse(4);
	if (F(7) != 0 || F(8) == 0 || F(8) > SLOT_BYTES)
		return refuse(5);
	if (F(9) != PAGE_BYTES)
		return refuse(6);
#undef F
	memcpy(ee_manifest, d, 54);
	uint16_t c = crc16(ee_manifest, 54);
	ee_manifest[54] = c;
	ee_manifest[55] = c >> 8;
	eew_dirty(U_MANIFEST);
	held = 0;
	save_held();
	st = 1;
	err = 0;
	return 0;
}

static uint8_t write_chunk(uint16_t k, const uint8_t *d)
{
	if (!(st == 1 || st == 3 || st == 4 || st == 7) || !manifest_valid())
		return refuse(7);
	if (k >= nchunks() || !(k == held || k + 1 == held))
		return refuse(7);
	uint32_t want = (uint32_t)be16(d + 128) << 16 | be16(d + 130);
	if (crc32(d, PAGE_BYTES) != want)
		return refuse(8);
	if (boot_flash_write_page(staged_base() + PAGE_BYTES * k, d) != FWP_OK) {
		err = 9;
		return 4;
	}
	if (k == held)
		held++;
	st = 1;
	if (held % 16 == 0 || held == nchunks())
		save_held();
	return 0;
}

uint8_t upd_write_file(uint16_t file, uint16_t rec, uint16_t n, const uint8_t *d)
{
	if (file == 1) {
		if (rec != 0)
			return 2;
		if (n != 27)
			return 3;
	} else if (file == 2) {
		if (n != 66)
			return 3;
	} else {
		return 2;
	}
	if (st == 2)
		return 6;
	if (st == 6)
		return refuse(13);
	return file == 1 ? write_manifest(d) : write_chunk(rec, d);
}
