/* limit.c: the architecture's limit for `make bench` (limit-c). A minimal threaded libfcgi
 * responder, built like libfcgi's examples/threaded.c (minus its accept mutex, see serve()): N threads each accept on one shared
 * unix socket and answer every request with what a payment answer looks like (201,
 * application/json, Location, a 128-byte JSON body). It reads the request body like a real
 * responder, and does nothing else.
 *
 *   cc -O2 -o limit limit.c -lfcgi -lpthread
 *   ./limit /tmp/x/limit.sock [threads]
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int listen_fd;

static const char answer[] =
    "Status: 201 Created\r\n"
    "Content-Type: application/json\r\n"
    "Location: /payments/pay_be46da940f515d2a74c11744\r\n"
    "\r\n"
    "{\"id\":\"pay_be46da940f515d2a74c11744\",\"object\":\"payment\",\"amount\":100,"
    "\"currency\":\"USD\",\"status\":\"succeeded\",\"created\":1796418820}";

static void *serve(void *unused) {
    (void)unused;
    FCGX_Request *request = malloc(sizeof *request); /* libfcgi keeps a pointer to it */
    FCGX_InitRequest(request, listen_fd, 0);
    char buf[4096];
    for (;;) {
        /* No accept mutex (threaded.c has one): on Linux accept() needs no serialization, and
         * with kept-alive connections FCGX_Accept_r blocks reading the next request of its
         * connection, so a mutex around it would serve one connection at a time. idem's
         * workers accept the same way. */
        if (FCGX_Accept_r(request) < 0) break;
        while (FCGX_GetStr(buf, sizeof buf, request->in) > 0) {}
        FCGX_PutStr(answer, (int)sizeof answer - 1, request->out);
        FCGX_Finish_r(request);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s SOCKET [threads]\n", argv[0]); return 64; }
    int threads = argc > 2 ? atoi(argv[2]) : 8;
    if (threads < 1 || threads > 256) threads = 8;
    FCGX_Init();
    unlink(argv[1]);
    listen_fd = FCGX_OpenSocket(argv[1], 1024);
    if (listen_fd < 0) { perror("FCGX_OpenSocket"); return 69; }
    chmod(argv[1], 0666);
    pthread_t ids[256];
    for (int i = 1; i < threads; i++) pthread_create(&ids[i], NULL, serve, NULL);
    serve(NULL);
    return 0;
}
