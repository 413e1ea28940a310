/*
 * cherga bootloader: 4 KiB boot section of the ATmega328P (BOOTSZ = 00,
 * BOOTRST programmed). PROTOCOL.md section 10.1 and 10.5.
 *
 * At reset it reads the boot state (two CRC-8-guarded copies in EEPROM
 * 0x3F0-0x3FF), picks slot A (0x0000) or B (0x3800), records the choice in
 * GPIOR0, moves the interrupt vectors to the boot section (IVSEL; each
 * vector forwards to the running slot) and jumps to the slot. It keeps no
 * RAM of its own: the three functions of the jump table run on the
 * application's stack, so this file has no .data and no .bss.
 *
 * It speaks no Modbus: the applications receive images and write them,
 * page by page, through flash_write_page (SPM executes only from here).
 */
#include <avr/io.h>
#include <avr/boot.h>
#include <avr/pgmspace.h>
#include <avr/wdt.h>
#include "bootapi.h"

struct bstate {
	uint8_t seq, state, active, trial;
};

static uint8_t crc8(const uint8_t *p, uint8_t n)
{
	uint8_t c = 0;
	while (n--) {
		c ^= *p++;
		for (uint8_t i = 0; i < 8; i++)
			c = (c & 0x80) ? (uint8_t)(c << 1) ^ 0x07 : (uint8_t)(c << 1);
	}
	return c;
}

/* EEPROM access safe beside the application's interrupt-driven writer:
 * interrupts are off only for the few cycles of each access. */
static uint8_t ee_lock(void)
{
	uint8_t sreg;
	for (;;) {
		while (EECR & _BV(EEPE))
			;
		sreg = SREG;
		__asm__ __volatile__("cli" ::: "memory");
		if (!(EECR & _BV(EEPE)))
			return sreg;
		SREG = sreg;
	}
}

static uint8_t ee_read(uint16_t a)
{
	uint8_t sreg = ee_lock();
	EEAR = a;
	EECR |= _BV(EERE);
	uint8_t v = EEDR;
	SREG = sreg;
	return v;
}

static void ee_write(uint16_t a, uint8_t v)
{
	if (ee_read(a) == v)
		return;
	uint8_t sreg = ee_lock();
	EEAR = a;
	EEDR = v;
	__asm__ __volatile__(
		"sbi %0, %1\n\t"
		"sbi %0, %2\n\t"
		:: "I"(_SFR_IO_ADDR(EECR)), "I"(EEMPE), "I"(EEPE));
	SREG = sreg;
}

static uint8_t copy_load(uint16_t at, struct bstate *s)
{
	uint8_t b[8];
	for (uint8_t i = 0; i < 8; i++)
		b[i] = ee_read(at + i);
	if (crc8(b, 7) != b[7])
		return 0;
	if (b[1] != BS_CONFIRMED && b[1] != BS_PENDING && b[1] != BS_TRIAL_BOOTED)
		return 0;
	if (b[2] > 1 || b[3] > 1)
		return 0;
	s->seq = b[0];
	s->state = b[1];
	s->active = b[2];
	s->trial = b[3];
	return 1;
}

/* the newer valid copy; returns where it lives (0: none, default state) */
static uint16_t bs_load(struct bstate *s)
{
	struct bstate a, b;
	uint8_t va = copy_load(EE_BOOT_A, &a), vb = copy_load(EE_BOOT_B, &b);
	if (va && (!vb || (int8_t)(a.seq - b.seq) > 0)) {
		*s = a;
		return EE_BOOT_A;
	}
	if (vb) {
		*s = b;
		return EE_BOOT_B;
	}
	s->seq = 0;
	s->state = BS_CONFIRMED;
	s->active = 0;
	s->trial = 0;
	return 0;
}

/* writes into the other copy, so a torn write leaves the current one */
static void bs_store(uint8_t state, uint8_t active, uint8_t trial)
{
	struct bstate cur;
	uint16_t at = bs_load(&cur) == EE_BOOT_A ? EE_BOOT_B : EE_BOOT_A;
	uint8_t b[8] = { (uint8_t)(cur.seq + 1), state, active, trial, 0xFF, 0xFF, 0xFF, 0 };
	b[7] = crc8(b, 7);
	/* the CRC last: until it is written the copy is invalid */
	ee_write(at + 7, (uint8_t)~b[7]);
	for (uint8_t i = 0; i < 8; i++)
		ee_write(at + i, b[i]);
}

static uint8_t slot_empty(uint8_t slot)
{
	return pgm_read_word(slot ? SLOT_B : SLOT_A) == 0xFFFF;
}

void boot_main(void) __attribute__((noreturn, used));
void boot_main(void)
{
	uint8_t mcusr = MCUSR;
	MCUSR = 0;
	wdt_reset();
	WDTCSR = _BV(WDCE) | _BV(WDE);
	WDTCSR = 0;
	GPIOR1 = mcusr;

	struct bstate s;
	bs_load(&s);
	uint8_t slot = s.active, flags = 0;
	if (s.state == BS_PENDING) {
		bs_store(BS_TRIAL_BOOTED, s.active, s.trial);
		wdt_enable(WDTO_2S);
		slot = s.trial;
		flags = BOOTF_TRIAL;
	} else if (s.state == BS_TRIAL_BOOTED) {
		bs_store(BS_CONFIRMED, s.active, s.active);
		flags = BOOTF_REVERTED;
	}
	if (slot_empty(slot)) {
		if (flags & BOOTF_TRIAL) {
			/* nothing to try: back to the confirmed image */
			bs_store(BS_CONFIRMED, s.active, s.active);
			wdt_disable();
			slot = s.active;
			flags = BOOTF_REVERTED;
		}
		if (slot_empty(slot)) {
			slot ^= 1;
			flags = 0;
		}
		if (slot_empty(slot)) {
			/* no application at all: wait for ISP */
			for (;;)
				__asm__ __volatile__("cli\n\tsleep");
		}
	}
	GPIOR0 = slot | flags;
	MCUCR = _BV(IVCE);
	MCUCR = _BV(IVSEL);
	if (slot)
		__asm__ __volatile__("jmp %0" :: "i"(SLOT_B));
	__asm__ __volatile__("jmp %0" :: "i"(SLOT_A));
	for (;;)
		;
}

uint8_t flash_write_page(uint16_t addr, const uint8_t *buf) __attribute__((used));
uint8_t flash_write_page(uint16_t addr, const uint8_t *buf)
{
	uint8_t f = GPIOR0;
	if (f & BOOTF_TRIAL)
		return FWP_REFUSED;
	uint16_t base = (f & BOOTF_SLOT_B) ? SLOT_A : SLOT_B;
	if ((addr & (PAGE_BYTES - 1)) || addr < base || addr - base >= SLOT_BYTES)
		return FWP_REFUSED;

	uint8_t sreg = ee_lock();	/* interrupts off from here */
	boot_page_erase(addr);
	boot_spm_busy_wait();
	for (uint8_t i = 0; i < PAGE_BYTES; i += 2)
		boot_page_fill(addr + i, buf[i] | (uint16_t)buf[i + 1] << 8);
	boot_page_write(addr);
	boot_spm_busy_wait();
	boot_rww_enable();
	SREG = sreg;

	for (uint8_t i = 0; i < PAGE_BYTES; i++)
		if (pgm_read_byte(addr + i) != buf[i])
			return FWP_MISMATCH;
	return FWP_OK;
}

uint8_t boot_commit_impl(void) __attribute__((used));
uint8_t boot_commit_impl(void)
{
	uint8_t f = GPIOR0;
	if (f & BOOTF_TRIAL)
		return 1;
	uint8_t running = f & BOOTF_SLOT_B;
	bs_store(BS_PENDING, running, running ^ 1);
	return 0;
}

uint8_t boot_confirm_impl(void) __attribute__((used));
uint8_t boot_confirm_impl(void)
{
	uint8_t f = GPIOR0;
	if (f & BOOTF_TRIAL) {
		uint8_t running = f & BOOTF_SLOT_B;
		bs_store(BS_CONFIRMED, running, running);
		GPIOR0 = f & ~BOOTF_TRIAL;
	}
	return 0;
}
