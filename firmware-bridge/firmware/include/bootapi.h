/*
 * The contract between the bootloader (boot/) and the applications (app/):
 * PROTOCOL.md section 10.1 and 10.5.
 */
#ifndef CHERGA_BOOTAPI_H
#define CHERGA_BOOTAPI_H

#ifndef __ASSEMBLER__
#include <stdint.h>
#endif

#define SLOT_A 0x0000
#define SLOT_B 0x3800
#define SLOT_BYTES 0x3800	/* 14,336 bytes, 112 pages */
#define BOOT_START 0x7000
#define PAGE_BYTES 128
#define SLOT_PAGES 112

/* GPIOR0: the bootloader's (applications read it, never write it) */
#define BOOTF_SLOT_B 0x01	/* slot B runs */
#define BOOTF_TRIAL 0x02	/* this boot is a trial of a committed image */
#define BOOTF_REVERTED 0x04	/* the last trial did not confirm; old image runs */
/* GPIOR1: MCUSR as the bootloader read it at reset (it clears MCUSR) */

/* the jump table in the boot section's last 16 bytes (byte addresses) */
#define BOOT_FLASH_WRITE_PAGE 0x7FF0
#define BOOT_COMMIT 0x7FF4
#define BOOT_CONFIRM 0x7FF8
#define BOOT_VERSION_ADDR 0x7FFC	/* uint16: bootloader version */
#define BOOT_MAGIC_ADDR 0x7FFE		/* uint16: BOOT_MAGIC */
#define BOOT_MAGIC 0xB007

/* flash_write_page's answers */
#define FWP_OK 0
#define FWP_REFUSED 1	/* not a page of the inactive slot, or a trial runs */
#define FWP_MISMATCH 2	/* the read-back differs from the buffer */

/* boot state in EEPROM: two copies of 8 bytes */
#define EE_BOOT_A 0x3F0
#define EE_BOOT_B 0x3F8
#define BS_CONFIRMED 0xC3
#define BS_PENDING 0x5A
#define BS_TRIAL_BOOTED 0x7B
/* copy layout: [0] seq, [1] state, [2] active slot, [3] trial slot,
 * [4..6] 0xFF, [7] CRC-8 (poly 0x07, init 0) of [0..6] */

#ifndef __ASSEMBLER__
typedef uint8_t (*flash_write_page_fn)(uint16_t byte_addr, const uint8_t *buf128);
typedef uint8_t (*boot_fn)(void);
/* avr-gcc function pointers hold word addresses */
#define boot_flash_write_page ((flash_write_page_fn)(BOOT_FLASH_WRITE_PAGE / 2))
#define boot_commit ((boot_fn)(BOOT_COMMIT / 2))
#define boot_confirm ((boot_fn)(BOOT_CONFIRM / 2))
#endif

#endif
