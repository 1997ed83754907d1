// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD for QEMU inside the emulated POWER9 host: clock_gettime(),
 * gettimeofday() and time() through system calls instead of the vDSO.
 *
 * Why: once KVM guests run on the emulated POWER9 (TCG), its CPUs'
 * timebases drift apart (measured: tens of ms).  The kernel's clock treats
 * a timebase behind the one that last updated the time as no time passed;
 * powerpc's vDSO takes the negative delta as a huge unsigned one, whose
 * product with the clock's multiplier wraps 2^64: the time comes out 2^40
 * ns (18 min 20 s) ahead.  Measured on both kernels, base and ours: vDSO
 * CLOCK_MONOTONIC 1,159,494 ms where the system call said 60,000 ms (see
 * clock_watch.c).  QEMU's migration rate limiter then sleeps until that
 * time: the migration stalls.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int clock_gettime(clockid_t id, struct timespec *ts)
{
	return syscall(SYS_clock_gettime, id, ts);
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	return syscall(SYS_gettimeofday, tv, tz);
}

time_t time(time_t *t)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts))
		return (time_t)-1;
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
