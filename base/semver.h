/* semver.h - semantic-version order of version labels (spec/store.md "Which version").
 *
 * semver_compare(a, b, &c): 0 with c <0, 0, >0 when both labels parse as MAJOR[.MINOR[.PATCH]][-pre][+build]
 * (a leading "v" accepted; "6.4" equals "6.4.0"), else -EINVAL and c untouched: the caller falls back to
 * its own order (fetch order in the index, entry order in a catalog).
 */
#ifndef STACK_SEMVER_H
#define STACK_SEMVER_H

int semver_compare(const char *a, const char *b, int *ret);

#endif
