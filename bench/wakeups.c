/* The peer of bench/wakeups.ts: a thread that sleeps in epoll_wait with a timeout and wakes HZ times a second
 * doing nothing, for SECONDS; prints the CPU it used (getrusage: user + system) per wake as one JSON line.
 * What the kernel and the hypervisor charge a process to sleep and wake, with no runtime on top. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: wakeups HZ SECONDS\n"); return 2; }
  int hz = atoi(argv[1]), seconds = atoi(argv[2]);
  if (hz < 1 || hz > 1000 || seconds < 1) { fprintf(stderr, "wakeups: HZ 1..1000, SECONDS >= 1\n"); return 2; }
  int ep = epoll_create1(0);
  struct epoll_event events[8];
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  int wakes = hz * seconds;
  for (int i = 0; i < wakes; i++) epoll_wait(ep, events, 8, 1000 / hz);
  getrusage(RUSAGE_SELF, &after);
  double us = (after.ru_utime.tv_sec - before.ru_utime.tv_sec + after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1e6
    + (after.ru_utime.tv_usec - before.ru_utime.tv_usec) + (after.ru_stime.tv_usec - before.ru_stime.tv_usec);
  printf("{\"wakes\":%d,\"cpuUs\":%.0f}\n", wakes, us);
  return 0;
}
