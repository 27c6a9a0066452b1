// epoll and eventfd for the receiver's event loop: Glibc's Swift module does not export
// them (swift-linux.md §5). Kernel interfaces only; nothing to link.
#ifndef LEADBRIDGE_CEPOLL_SHIM_H
#define LEADBRIDGE_CEPOLL_SHIM_H
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <stdint.h>
#include <pthread.h>

/// Names the calling thread (shown by `ps -L`, `top -H`, perf); a GNU extension that
/// Glibc's Swift module does not export.
extern int pthread_setname_np(pthread_t thread, const char *name);
static inline void lb_name_current_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

/// epoll_event is packed on x86-64; these helpers keep Swift away from its layout.
static inline int lb_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static inline int lb_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

static inline int lb_epoll_del(int epfd, int fd) {
    struct epoll_event ev = {0};
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

/// One ready descriptor as the loop reads it: the events and the 64-bit tag it was added with.
typedef struct { uint32_t events; uint64_t data; } lb_ready;

/// Waits like epoll_wait and copies the packed events into `out` (at most 1024).
static inline int lb_epoll_wait(int epfd, lb_ready *out, int max, int timeout_ms) {
    struct epoll_event events[1024];
    if (max > 1024) max = 1024;
    int n = epoll_wait(epfd, events, max, timeout_ms);
    for (int i = 0; i < n; i++) {
        out[i].events = events[i].events;
        out[i].data = events[i].data.u64;
    }
    return n;
}
#endif
