#include <fcgiapp.h>
// The poller that feeds libfcgi's workers (FastCGI/ConnectionPoller.swift) uses epoll.
#include <sys/epoll.h>
