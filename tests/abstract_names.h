/* POSIX test helper: the abstract socket names this process holds
 * (event sockets "mmpool-ev-KEY", mailboxes "mmpool-mb-KEY"). */
#ifndef MMPOOL_TEST_ABSTRACT_NAMES_H
#define MMPOOL_TEST_ABSTRACT_NAMES_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Finds among this process's descriptors the socket bound to the abstract
 * name starting with prefix; fills *a and *len with its address (ready for
 * sendto) and returns its descriptor, or -1 if there is none or more than
 * one. */
int mmpt_abstract_socket(const char *prefix, struct sockaddr_un *a, socklen_t *len);

#endif
