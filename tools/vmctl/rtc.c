// SPDX-License-Identifier: GPL-2.0
/*
 * The CMOS/RTC at 0x70 (index, bit 7 masks NMIs) and 0x71 (data): the
 * host's UTC time in BCD or binary as status B says, always in 24-hour
 * mode, never mid-update; the other bytes
 * of the 128 are plain storage.
 */
#include <stdint.h>
#include <time.h>

#include "devices.h"

#define RTC_INDEX	0x70
#define RTC_DATA	0x71

#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_WEEKDAY	0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_STATUS_A	0x0a	/* bit 7: update in progress */
#define RTC_STATUS_B	0x0b
#define RTC_STATUS_C	0x0c
#define RTC_STATUS_D	0x0d	/* bit 7: the time is valid */
#define RTC_CENTURY	0x32

#define STATUS_B_24H	0x02	/* always: 24-hour mode */
#define STATUS_B_BINARY	0x04	/* else BCD */
#define STATUS_D_VRT	0x80

/* [single-threaded: the vCPU loop] */
static struct {
	uint8_t index;
	uint8_t ram[128];
} rtc = {
	.ram = {
		[RTC_STATUS_A] = 0x26,
		[RTC_STATUS_B] = STATUS_B_24H,
		[RTC_STATUS_D] = STATUS_D_VRT,
	},
};

static uint8_t bcd(int v)
{
	if (rtc.ram[RTC_STATUS_B] & STATUS_B_BINARY)
		return v;
	return (v / 10) << 4 | v % 10;
}

static uint8_t rtc_read(uint8_t reg)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (reg) {
	case RTC_SECONDS:
		return bcd(tm.tm_sec > 59 ? 59 : tm.tm_sec);
	case RTC_MINUTES:
		return bcd(tm.tm_min);
	case RTC_HOURS:
		return bcd(tm.tm_hour);
	case RTC_WEEKDAY:
		return bcd(tm.tm_wday + 1);
	case RTC_DAY:
		return bcd(tm.tm_mday);
	case RTC_MONTH:
		return bcd(tm.tm_mon + 1);
	case RTC_YEAR:
		return bcd(tm.tm_year % 100);
	case RTC_CENTURY:
		return bcd((tm.tm_year + 1900) / 100);
	case RTC_STATUS_C:
		return 0;
	default:
		return rtc.ram[reg];
	}
}

enum dev_result rtc_io(struct port_access *a)
{
	if (a->port != RTC_INDEX && a->port != RTC_DATA)
		return DEV_UNHANDLED;
	if (a->port == RTC_INDEX) {
		if (a->in)
			*a->data = 0xff;
		else
			rtc.index = *a->data & 0x7f;
		return DEV_OK;
	}
	if (a->in)
		*a->data = rtc_read(rtc.index);
	else if (rtc.index > RTC_STATUS_D)
		rtc.ram[rtc.index] = *a->data;
	else if (rtc.index == RTC_STATUS_A)
		rtc.ram[rtc.index] = *a->data & 0x7f;
	else if (rtc.index == RTC_STATUS_B)
		rtc.ram[rtc.index] = *a->data | STATUS_B_24H;
	return DEV_OK;
}
