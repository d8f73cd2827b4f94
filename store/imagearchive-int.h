/* imagearchive-int.h - what the two files of the image archive module share (store/imagearchive*.c); not an
 * interface outside store/ (store/imagearchive.h is).
 */
#ifndef STACK_IMAGEARCHIVE_INT_H
#define STACK_IMAGEARCHIVE_INT_H

/* A tar member's name as a top-level name: "./manifest.json", "manifest.json" and "/manifest.json" are the same
 * file. p may be NULL (""). */
const char *ia_top_name(const char *p);

#endif
