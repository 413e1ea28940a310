/*
 * cherga-avrsim: runs the cherga firmware (bootloader + application) on a
 * simulated ATmega328P (libsimavr) and bridges its USART0 to a Linux
 * pseudo-terminal, so the Go host talks to it as to a device on a serial
 * port.
 *
 *   cherga-avrsim -state DIR [-hex FACTORY.hex] [-link PATH] [-v]
 *
 * DIR holds the device's non-volatile memories, so that killing this
 * process is a power cut and starting it again with the same DIR is the
 * power coming back:
 *   DIR/flash.bin   32 KiB program flash. Created from -hex (the ISP
 *                   "factory programming") when it does not exist; every
 *                   page the firmware erases or writes with SPM is written
 *                   through to it at once.
 *   DIR/eeprom.bin  1 KiB EEPROM, memory-mapped (MAP_SHARED) as simavr's
 *                   EEPROM array, so every byte the firmware writes is in
 *                   the file when the write instruction completes. A new
 *                   file is all 0xFF, like an erased chip.
 *
 * On stdout it prints one line "pty /dev/pts/N" once the device runs, and
 * then only what the lcd command asks for. Commands on stdin, one a line:
 *   key N MS        hold keypad key N (1..7) for MS ms of simulated time
 *                   (rating panel buttons 1..5 are on the pins of keys 1..5)
 *   pin P B L       drive input pin P (B, C or D), bit B, to level L (0/1)
 *   warp MS         run the next MS ms of simulated time without waiting
 *                   for the wall clock while idle (a minute in a blink);
 *                   warp 0 ends a warp
 *   lcd             print "lcd L1 L2 CG": the virtual keypad LCD's two
 *                   lines (20 character codes each) and its 64 CGRAM
 *                   bytes, in hex
 *   leds            print "leds T L1 L2 L3 L4 L5 LAMP": the simulated time
 *                   T (ms) and, per LED, "now:min:max:since", its
 *                   brightness in 1/256 (0 dark, 256 steady on) now and
 *                   the least and most since the previous leds command,
 *                   and the simulated ms of its last change. The rating
 *                   panel's button LEDs 1-5 are lit by PB1-PB5 through the
 *                   common anode on OC0A (PD6), its thank-you lamp is
 *                   OC0B (PD5); the keypad's LEDs are L1-L4 of the same.
 *   quit            exit (end of file on stdin does the same)
 *
 * The keypad's LCD is a virtual HD44780 behind a PCF8574 I2C backpack at
 * address 0x27 (P0 RS, P2 E, P3 backlight, P4-P7 D4-D7), so the firmware's
 * LCD driver runs against something that answers.
 *
 * Design (see firmware-bridge/firmware/README.md): our own UART <-> pty
 * bridge, not simavr's uart_pty part (which runs a thread and paces
 * nothing): bytes from the pty are raised on UART_IRQ_INPUT while the UART
 * fifo has room (XON/XOFF irqs) and the line is free (the wire model keeps
 * 4 character times of silence after the device's last transmitted byte,
 * as the Modbus master would); UART_IRQ_OUTPUT bytes are written to the pty
 * as they come.
 *
 * Time: the simulation runs as fast as the host CPU allows while the
 * firmware computes or the UART moves bytes. Only when the firmware sleeps
 * with nothing on the wire (waiting for the host) does this process block,
 * in ppoll() on the pty and stdin, for at most the simulated sleep, so an
 * idle device costs no CPU and simulated time never runs ahead while
 * nothing happens; a byte from the host ends the wait at once. "warp"
 * lifts the idle pacing for a stretch of simulated time.
 *
 * Two ATmega328P features simavr 1.6 lacks are added here: BOOTRST (the
 * reset vector is the boot section, 0x7000) and IVSEL (MCUCR bit 1 moves
 * the interrupt vectors to the boot section): the run loop is simavr's
 * avr_callback_run_raw with the vector address relocated after an
 * interrupt was taken while IVSEL is set.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sim_avr.h>
#include <sim_core.h>
#include <sim_interrupts.h>
#include <sim_cycle_timers.h>
#include <sim_time.h>
#include <avr_uart.h>
#include <avr_eeprom.h>
#include <avr_ioport.h>
#include <avr_adc.h>
#include <avr_flash.h>
#include <avr_extint.h>
#include <avr_twi.h>

#define FLASH_SIZE 32768
#define EEPROM_SIZE 1024
#define BOOT_START 0x7000
#define PAGE 128
#define VECTORS 26
#define MCUCR_ADDR 0x55
#define SPMCSR_ADDR 0x57
#define IVSEL_BIT 0x02

static avr_t *avr;
static avr_uart_t *uart;
static int verbose;
static int pty_master = -1, pty_slave = -1;
static int flash_fd = -1;

/* bytes from the host not yet raised on the UART */
static uint8_t inq[8192];
static size_t inq_head, inq_len;
static int uart_xoff;
static avr_cycle_count_t line_free_at;	/* the wire model: no input before */
static avr_cycle_count_t last_poll;
static avr_cycle_count_t warp_until;	/* no idle pacing before this cycle */
static int stdin_open = 1;
static char cmdbuf[256];
static size_t cmdlen;

/* keypad keys 1-7: firmware-bridge/firmware/app/keypad.c (key 1 is also
 * the window display's service button, PC0) */
static const struct { char port; int bit; } keypins[8] = {
	{0, 0}, {'C', 0}, {'C', 1}, {'C', 2}, {'C', 3}, {'D', 4}, {'D', 7}, {'B', 0},
};

/* simavr's messages go to stderr (stdout carries only the pty line) */
static void logger(avr_t *a, const int level, const char *fmt, va_list ap)
{
	if (level <= (verbose > 2 ? LOG_TRACE : verbose ? LOG_WARNING : LOG_ERROR) ||
			(a && level <= a->log && verbose > 2))
		vfprintf(stderr, fmt, ap);
}

static void die(const char *what)
{
	fprintf(stderr, "cherga-avrsim: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double simms(void)
{
	return avr ? avr->cycle / (avr->frequency / 1000.0) : 0;
}

static double realms(void)
{
	static struct timespec t0;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (!t0.tv_sec)
		t0 = t;
	return (t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6;
}

/* ---- UART <-> pty ---- */

static void uart_out_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	uint8_t b = value;
	if (verbose > 1)
		fprintf(stderr, "[%10.3f %10.3f] tx %02x\n", simms(), realms(), b);
	for (;;) {
		ssize_t n = write(pty_master, &b, 1);
		if (n == 1)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { pty_master, POLLOUT, 0 };
			poll(&p, 1, 100);
			continue;
		}
		break;	/* nobody listens: the byte is lost, as on a bus */
	}
	/* the byte is on the wire for one character, another may wait in UDR */
	avr_cycle_count_t end = avr->cycle + 2 * uart->cycles_per_byte
		+ 4 * uart->cycles_per_byte;
	if (end > line_free_at)
		line_free_at = end;
}

static void uart_xon_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	if (value)
		uart_xoff = 0;
}

static void uart_xoff_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	if (value)
		uart_xoff = 1;
}

static void feed_uart(void)
{
	while (inq_len && !uart_xoff && avr->cycle >= line_free_at) {
		uint8_t b = inq[inq_head];
		inq_head = (inq_head + 1) % sizeof inq;
		inq_len--;
		if (verbose > 1)
			fprintf(stderr, "[%10.3f %10.3f] rx %02x\n", simms(), realms(), b);
		avr_raise_irq(uart->io.irq + UART_IRQ_INPUT, b);
	}
}

static void read_pty(void)
{
	while (inq_len < sizeof inq) {
		uint8_t buf[512];
		size_t room = sizeof inq - inq_len;
		ssize_t n = read(pty_master, buf, room < sizeof buf ? room : sizeof buf);
		if (n <= 0)
			return;	/* EAGAIN, or EIO while no slave is open */
		for (ssize_t i = 0; i < n; i++)
			inq[(inq_head + inq_len++) % sizeof inq] = buf[i];
	}
}

/* ---- the keypad LCD: PCF8574 + HD44780 ---- */

#define LCD_I2C 0x27
static avr_irq_t *twi_in;
static int twi_selected;
static uint8_t pcf = 0xFF;		/* the expander's output latch */
static uint8_t ddram[0x80], cgram[64];
static uint8_t lcd_ac, lcd_cg, lcd_8bit = 1, lcd_half, lcd_high;

static void lcd_exec(uint8_t v, int rs)
{
	if (rs) {
		if (lcd_cg)
			cgram[lcd_ac++ & 63] = v & 0x1F;
		else
			ddram[lcd_ac++ & 0x7F] = v;
		return;
	}
	if (v & 0x80) {
		lcd_cg = 0;
		lcd_ac = v & 0x7F;
	} else if (v & 0x40) {
		lcd_cg = 1;
		lcd_ac = v & 0x3F;
	} else if (v & 0x20) {
		lcd_8bit = (v & 0x10) != 0;
		lcd_half = 0;
	} else if (v == 0x01) {
		memset(ddram, ' ', sizeof ddram);
		lcd_ac = 0;
		lcd_cg = 0;
	} else if ((v & 0xFE) == 0x02) {
		lcd_ac = 0;
		lcd_cg = 0;
	}
}

static void pcf_write(uint8_t v)
{
	int fall = (pcf & 0x04) && !(v & 0x04);	/* E high to low latches */
	pcf = v;
	if (!fall)
		return;
	uint8_t nib = v >> 4;
	int rs = v & 0x01;
	if (lcd_8bit) {
		lcd_exec(nib << 4, rs);
	} else if (!lcd_half) {
		lcd_high = nib;
		lcd_half = 1;
	} else {
		lcd_half = 0;
		lcd_exec(lcd_high << 4 | nib, rs);
	}
}

static void twi_out_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)param;
	avr_twi_msg_irq_t m;
	m.u.v = value;
	if (verbose > 1)
		fprintf(stderr, "[%10.3f] twi msg %02x addr %02x data %02x\n", simms(),
			m.u.twi.msg, m.u.twi.addr, m.u.twi.data);
	if (m.u.twi.msg & TWI_COND_STOP)
		twi_selected = 0;
	if (m.u.twi.msg & TWI_COND_START) {
		twi_selected = (m.u.twi.addr >> 1) == LCD_I2C && !(m.u.twi.addr & 1);
		if (twi_selected)
			avr_raise_irq(twi_in, avr_twi_irq_msg(TWI_COND_ACK, m.u.twi.addr, 1));
	}
	if (twi_selected && (m.u.twi.msg & TWI_COND_WRITE)) {
		avr_raise_irq(twi_in, avr_twi_irq_msg(TWI_COND_ACK, LCD_I2C << 1, 1));
		pcf_write(m.u.twi.data);
	}
}

static void lcd_print(void)
{
	printf("lcd ");
	for (int i = 0; i < 20; i++)
		printf("%02x", ddram[i]);
	printf(" ");
	for (int i = 0; i < 20; i++)
		printf("%02x", ddram[0x40 + i]);
	printf(" ");
	for (int i = 0; i < 64; i++)
		printf("%02x", cgram[i]);
	printf("\n");
	fflush(stdout);
}

static void attach_lcd(void)
{
	memset(ddram, ' ', sizeof ddram);
	twi_in = avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_INPUT);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_OUTPUT),
		twi_out_hook, NULL);
}

/* ---- LEDs (firmware-bridge/firmware/app/rating.c, keypad.c) ---- */

#define NLED 6
static struct { int now, min, max; avr_cycle_count_t since; } led[NLED];

/* the level of a Timer0 compare output pin in 1/256: its PWM duty while
 * the compare output drives it, else the port latch of an output pin */
static int oc0_level(int com_shift, uint8_t ocr, int pd_bit)
{
	uint8_t tccr0a = avr->data[0x44], tccr0b = avr->data[0x45];
	int com = (tccr0a >> com_shift) & 3, wgm = (tccr0a & 3) | ((tccr0b >> 1) & 4);
	if ((com == 2 || com == 3) && (wgm == 3 || wgm == 1)) {
		int d = wgm == 3 ? ocr + 1 : ocr * 256 / 255;	/* fast / phase correct */
		if (!(tccr0b & 7))
			d = 0;	/* timer stopped: treat as dark */
		return com == 2 ? d : 256 - d;
	}
	uint8_t out = avr->data[0x2B] & avr->data[0x2A];	/* PORTD & DDRD */
	return (out >> pd_bit & 1) ? 256 : 0;
}

static void leds_update(void)
{
	int anode = oc0_level(6, avr->data[0x47], 6);	/* OC0A, PD6 */
	int lamp = oc0_level(4, avr->data[0x48], 5);	/* OC0B, PD5 */
	uint8_t pb = avr->data[0x25] & avr->data[0x24];	/* PORTB & DDRB */
	for (int i = 0; i < NLED; i++) {
		int v = i == 5 ? lamp : (pb >> (i + 1) & 1) ? anode : 0;
		if (v == led[i].now)
			continue;
		led[i].now = v;
		led[i].since = avr->cycle;
		if (v < led[i].min)
			led[i].min = v;
		if (v > led[i].max)
			led[i].max = v;
	}
}

static void led_reg_hook(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq; (void)value; (void)param;
	leds_update();
}

static void leds_print(void)
{
	leds_update();
	printf("leds %.0f", simms());
	for (int i = 0; i < NLED; i++) {
		printf(" %d:%d:%d:%.0f", led[i].now, led[i].min, led[i].max,
			led[i].since / (avr->frequency / 1000.0));
		led[i].min = led[i].max = led[i].now;
	}
	printf("\n");
	fflush(stdout);
}

/* every write (and read) of the registers the LEDs depend on */
static void attach_leds(void)
{
	static const uint16_t regs[] = { 0x24, 0x25, 0x2A, 0x2B, 0x44, 0x45, 0x47, 0x48 };
	for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++)
		avr_irq_register_notify(avr_iomem_getirq(avr, regs[i], NULL, AVR_IOMEM_IRQ_ALL),
			led_reg_hook, NULL);
}

/* ---- keys and pins ---- */

static avr_irq_t *pin_irq(char port, int bit)
{
	return avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ(port), bit);
}

/* what the harness drives on the pins of ports B, C, D: -1 nothing */
static signed char level[3][8] = {
	{ -1, -1, -1, -1, -1, -1, -1, -1 },
	{ -1, -1, -1, -1, -1, -1, -1, -1 },
	{ -1, -1, -1, -1, -1, -1, -1, -1 },
};

static void drive(char port, int bit, int v)
{
	level[port - 'B'][bit] = v;
	/* simavr raises an input pin whose pull-up is on to 1 at every write
	 * of its PORT register, over what drives it (the keypad's buzzer and
	 * the RS-485 DE write PORTD, which let go of a key on PD4 or PD7):
	 * declare the driven levels as the port's external ones, which take
	 * precedence */
	uint8_t mask = 0, value = 0;
	for (int b = 0; b < 8; b++)
		if (level[port - 'B'][b] >= 0) {
			mask |= 1 << b;
			value |= level[port - 'B'][b] << b;
		}
	avr_ioport_external_t e = { .name = port, .mask = mask, .value = value };
	avr_ioctl(avr, AVR_IOCTL_IOPORT_SET_EXTERNAL(port), &e);
	avr_raise_irq(pin_irq(port, bit), v);
}

/* when each held key is let go (a reset clears simavr's cycle timers,
 * not the finger on the key: harness_reset arms them again) */
static avr_cycle_count_t release_at[8];

static avr_cycle_count_t key_release(avr_t *a, avr_cycle_count_t when, void *param)
{
	(void)a; (void)when;
	int k = (int)(intptr_t)param;
	release_at[k] = 0;
	drive(keypins[k].port, keypins[k].bit, 1);
	if (verbose)
		fprintf(stderr, "[%10.3f] key %d up\n", simms(), k);
	return 0;
}

static void command(char *line)
{
	char port;
	int a, b;
	if (sscanf(line, "key %d %d", &a, &b) == 2 && a >= 1 && a <= 7 && b > 0) {
		drive(keypins[a].port, keypins[a].bit, 0);
		release_at[a] = avr->cycle + (avr_cycle_count_t)b * (avr->frequency / 1000);
		avr_cycle_timer_register_usec(avr, (uint32_t)b * 1000, key_release,
			(void *)(intptr_t)a);
		if (verbose)
			fprintf(stderr, "[%10.3f] key %d down for %d ms\n", simms(), a, b);
	} else if (sscanf(line, "pin %c %d %d", &port, &a, &b) == 3 &&
			(port == 'B' || port == 'C' || port == 'D') && a >= 0 && a < 8) {
		drive(port, a, b ? 1 : 0);
	} else if (sscanf(line, "warp %d", &a) == 1 && a >= 0) {	/* 0: end a warp */
		warp_until = avr->cycle + (avr_cycle_count_t)a * (avr->frequency / 1000);
		if (verbose)
			fprintf(stderr, "[%10.3f] warp %d ms\n", simms(), a);
	} else if (strncmp(line, "leds", 4) == 0) {
		leds_print();
	} else if (strncmp(line, "lcd", 3) == 0) {
		lcd_print();
	} else if (strncmp(line, "quit", 4) == 0) {
		exit(0);
	} else if (line[0]) {
		fprintf(stderr, "cherga-avrsim: unknown command: %s\n", line);
	}
}

static void read_stdin(void)
{
	char buf[256];
	ssize_t n = read(0, buf, sizeof buf);
	if (n == 0) {
		exit(0);	/* the test is gone: so is the device */
	}
	if (n < 0)
		return;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || cmdlen == sizeof cmdbuf - 1) {
			cmdbuf[cmdlen] = 0;
			command(cmdbuf);
			cmdlen = 0;
		} else {
			cmdbuf[cmdlen++] = buf[i];
		}
	}
}

/* wait for the pty or stdin up to ns nanoseconds (0: just look) */
static void poll_io(long long ns)
{
	struct pollfd p[2] = { { pty_master, POLLIN, 0 }, { 0, POLLIN, 0 } };
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
	int n = ppoll(p, stdin_open ? 2 : 1, &ts, NULL);
	if (n <= 0)
		return;
	if (p[0].revents & POLLIN)
		read_pty();
	if (stdin_open && (p[1].revents & (POLLIN | POLLHUP)))
		read_stdin();
}

/* ---- time ---- */

static int uart_busy(void)
{
	return inq_len || uart->input.read != uart->input.write || uart->tx_cnt ||
		avr->cycle < line_free_at;
}

static long long idle_debt_ns;
static unsigned long n_sleep, n_idle_poll, n_busy;

static void sleep_hook(avr_t *a, avr_cycle_count_t how_long)
{
	n_sleep++;
	if (uart_busy() || a->cycle < warp_until) {
		n_busy++;
		/* the wire is busy: run on; look for new bytes once per ms */
		if (a->cycle - last_poll >= a->frequency / 1000) {
			last_poll = a->cycle;
			poll_io(0);
		}
		idle_debt_ns = 0;
		return;
	}
	idle_debt_ns += avr_cycles_to_nsec(a, how_long);
	if (idle_debt_ns < 1000000)
		return;
	long long ns = idle_debt_ns > 50000000 ? 50000000 : idle_debt_ns;
	idle_debt_ns = 0;
	last_poll = a->cycle;
	n_idle_poll++;
	poll_io(ns);
}

/* simavr's avr_callback_run_raw, plus IVSEL */
static void run_hook(avr_t *a)
{
	avr_flashaddr_t new_pc = a->pc;

	if (verbose && (a->pc == BOOT_START || a->pc == 0x0000 || a->pc == 0x3800)) {
		static avr_flashaddr_t last = 0xFFFFFF;
		if (a->pc != last)
			fprintf(stderr, "[%10.3f] %s (GPIOR0 %02x, MCUSR %02x)\n", simms(),
				a->pc == BOOT_START ? "reset: bootloader" :
				a->pc ? "boot: slot B" : "boot: slot A", a->data[0x3E], a->data[0x54]);
		last = a->pc;
	}
	if (a->state == cpu_Running)
		new_pc = avr_run_one(a);
	avr_cycle_count_t sleep = avr_cycle_timer_process(a);
	a->pc = new_pc;

	if (a->state == cpu_Sleeping) {
		if (!a->sreg[S_I]) {
			fprintf(stderr, "cherga-avrsim: sleeping with interrupts off at pc %04x\n", a->pc);
			a->state = cpu_Done;
			return;
		}
		a->sleep(a, sleep);
		a->cycle += 1 + sleep;
	}
	if (a->state == cpu_Running || a->state == cpu_Sleeping) {
		if (a->interrupt_state) {
			avr_flashaddr_t before = a->pc;
			avr_service_interrupts(a);
			if (a->pc != before && a->pc < VECTORS * 4 &&
					(a->data[MCUCR_ADDR] & IVSEL_BIT))
				a->pc += BOOT_START;
			if (verbose > 2 && a->pc != before)
				fprintf(stderr, "[%10.3f] irq -> %04x (from %04x) mcucr %02x\n",
					simms(), a->pc, before, a->data[MCUCR_ADDR]);
		}
	}
}

/* ---- persistent flash ---- */

static int (*flash_ioctl_orig)(struct avr_io_t *io, uint32_t ctl, void *param);

static int flash_ioctl_hook(struct avr_io_t *io, uint32_t ctl, void *param)
{
	uint8_t spmcsr = io->avr->data[SPMCSR_ADDR];
	uint32_t z = io->avr->data[30] | (io->avr->data[31] << 8);
	int r = flash_ioctl_orig(io, ctl, param);
	if (ctl == AVR_IOCTL_FLASH_SPM && (spmcsr & 0x01) && (spmcsr & 0x06)) {
		uint32_t page = (z & (FLASH_SIZE - 1)) & ~(uint32_t)(PAGE - 1);
		if (pwrite(flash_fd, io->avr->flash + page, PAGE, page) != PAGE)
			die("write flash.bin");
		if (verbose)
			fprintf(stderr, "[%10.3f] flash page %04x %s\n", simms(), page,
				(spmcsr & 0x02) ? "erased" : "written");
	}
	return r;
}

/*
 * simavr polls INT0/INT1 every cycle while their pins (PD2, PD3) are low
 * and the sense is "low level", even with the interrupts disabled; the
 * RS-485 driver enable is PD2 and is low whenever the device listens, so
 * the simulation would crawl at a few MHz. Our firmware uses neither
 * interrupt: turn the repetitive triggering off after every reset. This
 * module sits at the tail of the list, so its reset runs after extint's.
 */
static void harness_reset(avr_io_t *io)
{
	avr_extint_set_strict_lvl_trig(io->avr, 0, 0);
	avr_extint_set_strict_lvl_trig(io->avr, 1, 0);
	/* avr_reset zeroes every I/O register, PINx included, but a reset
	 * does not change what drives the pins: put the levels back */
	static const uint8_t pin_reg[3] = { 0x23, 0x26, 0x29 };	/* PINB, PINC, PIND */
	for (int p = 0; p < 3; p++)
		for (int b = 0; b < 8; b++)
			if (level[p][b] >= 0)
				io->avr->data[pin_reg[p]] = (io->avr->data[pin_reg[p]] & ~(1 << b)) |
					(level[p][b] << b);
	for (int k = 1; k <= 7; k++)
		if (release_at[k])
			avr_cycle_timer_register(io->avr, release_at[k] > io->avr->cycle ?
				release_at[k] - io->avr->cycle : 1, key_release, (void *)(intptr_t)k);
}

static avr_io_t harness_io = { .kind = "cherga-avrsim", .reset = harness_reset };

static void add_harness_io(void)
{
	avr_io_t **tail = &avr->io_port;
	while (*tail)
		tail = &(*tail)->next;
	harness_io.avr = avr;
	harness_io.next = NULL;
	*tail = &harness_io;
}

static avr_io_t *find_io(const char *kind)
{
	for (avr_io_t *p = avr->io_port; p; p = p->next)
		if (!strcmp(p->kind, kind))
			return p;
	return NULL;
}

static int hexval(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= c - '0';
		else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
		else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
		else return -1;
	}
	return v;
}

/* Intel hex (record types 00, 01, 02, 04; 03 and 05, start addresses,
 * are ignored) into a flash image */
static int read_hex(const char *path, uint8_t *img)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cherga-avrsim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[600];
	uint32_t base = 0;
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (line[0] != ':')
			continue;
		int n = hexval(line + 1, 2), addr = hexval(line + 3, 4), type = hexval(line + 7, 2);
		if (n < 0 || addr < 0 || type < 0 || strlen(line) < (size_t)(11 + 2 * n))
			goto bad;
		uint8_t sum = n + (addr >> 8) + addr + type, d[256];
		for (int i = 0; i <= n; i++) {
			int b = hexval(line + 9 + 2 * i, 2);
			if (b < 0)
				goto bad;
			if (i < n)
				d[i] = b;
			sum += b;
		}
		if (sum)
			goto bad;
		if (type == 1)
			break;
		if (type == 2 && n == 2)
			base = (uint32_t)(d[0] << 8 | d[1]) << 4;
		else if (type == 4 && n == 2)
			base = (uint32_t)(d[0] << 8 | d[1]) << 16;
		else if (type == 0) {
			uint32_t a = base + addr;
			if (a + n > FLASH_SIZE) {
				fprintf(stderr, "cherga-avrsim: %s does not fit the flash\n", path);
				fclose(f);
				return -1;
			}
			memcpy(img + a, d, n);
		}
	}
	fclose(f);
	return 0;
bad:
	fprintf(stderr, "cherga-avrsim: %s:%d: bad hex record\n", path, lineno);
	fclose(f);
	return -1;
}

static void load_flash(const char *dir, const char *hex)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/flash.bin", dir);
	flash_fd = open(path, O_RDWR);
	if (flash_fd < 0) {
		if (!hex) {
			fprintf(stderr, "cherga-avrsim: %s missing and no -hex to program\n", path);
			exit(2);
		}
		uint8_t img[FLASH_SIZE];
		memset(img, 0xff, sizeof img);
		if (read_hex(hex, img))
			exit(2);
		char tmp[4200];
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, img, sizeof img) != sizeof img || rename(tmp, path))
			die("create flash.bin");
		flash_fd = fd;
	}
	if (pread(flash_fd, avr->flash, FLASH_SIZE, 0) != FLASH_SIZE)
		die("read flash.bin");
	avr->codeend = avr->flashend;

	avr_io_t *f = find_io("flash");
	if (!f) {
		fprintf(stderr, "cherga-avrsim: no flash module\n");
		exit(2);
	}
	flash_ioctl_orig = f->ioctl;
	f->ioctl = flash_ioctl_hook;
}

static void map_eeprom(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/eeprom.bin", dir);
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		uint8_t ee[EEPROM_SIZE];
		memset(ee, 0xff, sizeof ee);
		char tmp[4200];
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, ee, sizeof ee) != sizeof ee || rename(tmp, path))
			die("create eeprom.bin");
	}
	void *m = mmap(NULL, EEPROM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap eeprom.bin");
	avr_eeprom_t *e = (avr_eeprom_t *)find_io("eeprom");
	if (!e || e->size != EEPROM_SIZE) {
		fprintf(stderr, "cherga-avrsim: no 1 KiB eeprom module\n");
		exit(2);
	}
	free(e->eeprom);
	e->eeprom = m;	/* never freed: the process ends without avr_terminate */
}

static void open_pty(const char *link)
{
	pty_master = posix_openpt(O_RDWR | O_NOCTTY);
	if (pty_master < 0 || grantpt(pty_master) || unlockpt(pty_master))
		die("posix_openpt");
	const char *name = ptsname(pty_master);
	if (!name)
		die("ptsname");
	/* keep a slave open, so the master never sees a hang-up between the
	 * host's opens, and make the line raw */
	pty_slave = open(name, O_RDWR | O_NOCTTY);
	if (pty_slave < 0)
		die("open pty slave");
	struct termios t;
	if (tcgetattr(pty_slave, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B19200);
		cfsetospeed(&t, B19200);
		tcsetattr(pty_slave, TCSANOW, &t);
	}
	fcntl(pty_master, F_SETFL, fcntl(pty_master, F_GETFL) | O_NONBLOCK);
	if (link) {
		unlink(link);
		if (symlink(name, link))
			die("symlink");
	}
	printf("pty %s\n", name);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *hex = NULL, *link = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-state") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "-hex") && i + 1 < argc)
			hex = argv[++i];
		else if (!strcmp(argv[i], "-link") && i + 1 < argc)
			link = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose++;
		else {
			fprintf(stderr, "usage: cherga-avrsim -state DIR [-hex FACTORY.hex] [-link PATH] [-v]\n");
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "cherga-avrsim: -state DIR is required\n");
		return 2;
	}
	mkdir(dir, 0755);
	signal(SIGPIPE, SIG_IGN);

	avr_global_logger_set(logger);
	avr = avr_make_mcu_by_name("atmega328p");
	if (!avr) {
		fprintf(stderr, "cherga-avrsim: simavr has no atmega328p\n");
		return 2;
	}
	avr_init(avr);
	avr->log = verbose > 2 ? LOG_TRACE : LOG_WARNING;
	avr->frequency = 16000000;
	avr->vcc = avr->avcc = avr->aref = 5000;	/* mV, for the ADC */
	load_flash(dir, hex);
	map_eeprom(dir);

	uart = (avr_uart_t *)find_io("uart");
	if (!uart) {
		fprintf(stderr, "cherga-avrsim: no uart\n");
		return 2;
	}
	uint32_t uflags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &uflags);
	uflags &= ~AVR_UART_FLAG_STDIO;
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &uflags);
	avr_irq_register_notify(uart->io.irq + UART_IRQ_OUTPUT, uart_out_hook, NULL);
	avr_irq_register_notify(uart->io.irq + UART_IRQ_OUT_XON, uart_xon_hook, NULL);
	avr_irq_register_notify(uart->io.irq + UART_IRQ_OUT_XOFF, uart_xoff_hook, NULL);

	/* BOOTRST programmed: reset into the boot section */
	avr->reset_pc = BOOT_START;
	avr->run = run_hook;
	avr->sleep = sleep_hook;
	add_harness_io();
	avr_reset(avr);
	avr_regbit_set(avr, avr->reset_flags.porf);

	/* released keys read high (external pull-ups on the board) */
	for (int k = 1; k <= 7; k++)
		drive(keypins[k].port, keypins[k].bit, 1);
	/* an unconnected ADC input: noise for the serial number */
	{
		uint32_t seed = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
		int ur = open("/dev/urandom", O_RDONLY);
		if (ur >= 0) {
			if (read(ur, &seed, sizeof seed) != sizeof seed) {}
			close(ur);
		}
		avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC7),
			1000 + seed % 3000);
		avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC6),
			1000 + (seed >> 12) % 3000);
	}
	attach_lcd();
	attach_leds();
	open_pty(link);
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);

	for (;;) {
		int state = avr_run(avr);
		if (state == cpu_Done || state == cpu_Crashed) {
			fprintf(stderr, "cherga-avrsim: cpu %s at pc %04x, %.1f ms\n",
				state == cpu_Done ? "stopped" : "crashed", avr->pc, simms());
			return 1;
		}
		if (inq_len)
			feed_uart();
		if (verbose > 2) {
			static double next;
			double r = realms();
			if (r >= next) {
				next = r + 1000;
				fprintf(stderr, "[%10.3f %10.3f] sleeps %lu busy %lu idle polls %lu\n",
					simms(), r, n_sleep, n_busy, n_idle_poll);
			}
		}
		if (avr->cycle - last_poll >= 16384) {
			last_poll = avr->cycle;
			poll_io(0);
		}
	}
}
