/* The peer of bench/datagrams.ts, and its sender.
 *
 *   datagrams send PORT RATE SECONDS SIZE   sends RATE datagrams a second to 127.0.0.1:PORT, evenly paced
 *   datagrams recv PORT SECONDS             blocks in recvfrom, one wake per datagram (a thread per datagram as
 *                                           Bun's event loop does it)
 *   datagrams tick PORT SECONDS HZ          sleeps until the next of HZ ticks a second, then reads every datagram
 *                                           waiting (non-blocking recvfrom until EAGAIN), as the netcode reference
 *                                           server's update does
 *
 * A receiver counts from its first datagram until SECONDS later and prints one JSON line: datagrams received and the
 * CPU (getrusage: user + system) it used in that window. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

static int bound(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); exit(1); }
  return fd;
}

static void add_ns(struct timespec *t, long ns) {
  t->tv_nsec += ns;
  while (t->tv_nsec >= 1000000000L) { t->tv_nsec -= 1000000000L; t->tv_sec++; }
}

int main(int argc, char **argv) {
  if (argc >= 6 && strcmp(argv[1], "send") == 0) {
    int port = atoi(argv[2]), rate = atoi(argv[3]), seconds = atoi(argv[4]), size = atoi(argv[5]);
    if (port < 1 || rate < 1 || seconds < 1 || size < 1 || size > 1200) { fprintf(stderr, "datagrams send: bad arguments\n"); return 2; }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char buf[1200];
    memset(buf, 7, sizeof buf);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long total = (long)rate * seconds, period = 1000000000L / rate;
    for (long i = 0; i < total; i++) {
      add_ns(&next, period);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
      sendto(fd, buf, size, 0, (struct sockaddr *)&to, sizeof to);
    }
    printf("{\"sent\":%ld}\n", total);
    return 0;
  }
  int ticked = argc >= 5 && strcmp(argv[1], "tick") == 0;
  if (!(ticked || (argc >= 4 && strcmp(argv[1], "recv") == 0))) {
    fprintf(stderr, "usage: datagrams send PORT RATE SECONDS SIZE | recv PORT SECONDS | tick PORT SECONDS HZ\n");
    return 2;
  }
  int port = atoi(argv[2]), seconds = atoi(argv[3]), hz = ticked ? atoi(argv[4]) : 0;
  if (port < 1 || seconds < 1 || (ticked && (hz < 1 || hz > 1000))) { fprintf(stderr, "datagrams: bad arguments\n"); return 2; }
  int fd = bound(port);
  printf("{\"ready\":true}\n");
  fflush(stdout);
  char buf[2048];
  /* The first datagram starts the window; it is not counted (its wake came from an idle process). */
  if (recv(fd, buf, sizeof buf, 0) < 0) return 1;
  double cpu0 = cpu_us(), start = now_s(), end = start + seconds;
  long received = 0;
  if (!ticked) {
    struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (now_s() < end) {
      if (recv(fd, buf, sizeof buf, 0) >= 0) received++;
    }
  } else {
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long period = 1000000000L / hz;
    while (now_s() < end) {
      add_ns(&next, period);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
      while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) received++;
    }
  }
  double cpu = cpu_us() - cpu0, wall = now_s() - start;
  printf("{\"received\":%ld,\"cpuUs\":%.0f,\"seconds\":%.3f}\n", received, cpu, wall);
  return 0;
}
