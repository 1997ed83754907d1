// SPDX-License-Identifier: GPL-2.0
/*
 * Watch the host's clock while QEMU runs KVM guests: every 20 ms read
 * CLOCK_MONOTONIC through the vDSO, as QEMU does, and report each step
 * backwards or far forwards, with the same clock read through the system
 * call and the timebase.  On SIGTERM prints how many steps it saw.
 *
 * Why: on the emulated POWER9 the vDSO has been seen to return the time
 * 2^40 ns (18 min 20 s) ahead and then right again (see syscall_clock.c);
 * the test's QEMU reads its clocks through syscall_clock.so, and this says
 * whether the host it ran on had the fault.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

#define MS	1000000LL
#define SHOWN	3	/* steps printed in full */

static int64_t to_ns(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

int main(void)
{
	const struct timespec period = { .tv_nsec = 20 * MS };
	struct timespec ts;
	int64_t prev, now, sys;
	long samples = 0, steps = 0;
	sigset_t term;

	/* SIGTERM ends the wait between two samples, and the loop. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	prev = to_ns(&ts);
	while (sigtimedwait(&term, NULL, &period) != SIGTERM) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = to_ns(&ts);
		samples++;
		if ((now < prev || now - prev > 2000 * MS) && ++steps <= SHOWN) {
			syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
			sys = to_ns(&ts);
			printf("# clock: vDSO %+lld ms to %lld ms, syscall %lld ms, tb %llu\n",
			       (long long)((now - prev) / MS), (long long)(now / MS),
			       (long long)(sys / MS),
			       (unsigned long long)__builtin_ppc_get_timebase());
		}
		prev = now;
	}
	printf("# clock: %ld vDSO clock steps in %ld samples\n", steps, samples);
	return 0;
}
