/* loadgen.c — a small closed-loop HTTP/1.1 load generator: C keep-alive
 * connections on raw sockets, each sending the same POST as soon as the
 * previous response arrived, for S seconds; counts 200 responses.
 *
 *   as_loadgen HOST PORT PATH BODY_FILE CONNECTIONS SECONDS
 * prints "http_requests_per_sec <n> errors <e>". */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  size_t sent;
  char *in;
  size_t inlen, incap;
} conn;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int dial(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &a.sin_addr);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    perror("connect");
    exit(1);
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

/* Returns the length of a complete response at the buffer start, 0 if incomplete. */
static size_t complete(const char *b, size_t n, int *status) {
  const char *end = memmem(b, n, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t hlen = (size_t)(end - b) + 4, clen = 0;
  *status = atoi(b + 9);
  for (const char *p = b; p < end; p++) {
    if ((p == b || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0)
      clen = strtoul(p + 15, NULL, 10);
  }
  return n >= hlen + clen ? hlen + clen : 0;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: as_loadgen HOST PORT PATH BODY_FILE CONNECTIONS SECONDS\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]), nc = atoi(argv[5]);
  double secs = atof(argv[6]);
  FILE *f = fopen(argv[4], "rb");
  if (!f) {
    perror(argv[4]);
    return 1;
  }
  static char body[1 << 20];
  size_t blen = fread(body, 1, sizeof(body), f);
  fclose(f);
  char *req = malloc(blen + 512);
  int hl = snprintf(
      req, 512,
      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
      argv[3], host, blen);
  memcpy(req + hl, body, blen);
  size_t rlen = (size_t)hl + blen;
  conn *c = calloc((size_t)nc, sizeof(*c));
  struct pollfd *p = calloc((size_t)nc, sizeof(*p));
  for (int i = 0; i < nc; i++)
    c[i].fd = dial(host, port);
  long ok = 0, errs = 0;
  double start = now(), end = start + secs;
  while (now() < end) {
    for (int i = 0; i < nc; i++) {
      p[i].fd = c[i].fd;
      p[i].events = c[i].sent < rlen ? POLLOUT : POLLIN;
    }
    if (poll(p, (nfds_t)nc, 100) < 0 && errno != EINTR) break;
    for (int i = 0; i < nc; i++) {
      conn *k = &c[i];
      if (p[i].revents & POLLOUT) {
        ssize_t w = write(k->fd, req + k->sent, rlen - k->sent);
        if (w > 0) k->sent += (size_t)w;
      } else if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (k->incap - k->inlen < 65536) {
          k->incap = k->incap * 2 + 65536;
          k->in = realloc(k->in, k->incap);
        }
        ssize_t r = read(k->fd, k->in + k->inlen, k->incap - k->inlen);
        if (r <= 0) { /* server closed: count and reconnect */
          errs++;
          close(k->fd);
          k->fd = dial(host, port);
          k->sent = k->inlen = 0;
          continue;
        }
        k->inlen += (size_t)r;
        int st = 0;
        size_t n = complete(k->in, k->inlen, &st);
        if (n) {
          if (st == 200)
            ok++;
          else
            errs++;
          memmove(k->in, k->in + n, k->inlen - n);
          k->inlen -= n;
          k->sent = 0;
        }
      }
    }
  }
  double el = now() - start;
  printf("http_requests_per_sec %.0f errors %ld\n", (double)ok / el, errs);
  for (int i = 0; i < nc; i++) {
    close(c[i].fd);
    free(c[i].in);
  }
  free(c);
  free(p);
  free(req);
  return 0;
}
