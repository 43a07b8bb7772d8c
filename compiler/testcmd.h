/* testcmd.h - `pipec test SPEC...` (testcmd.c). */
#ifndef PIPEC_TESTCMD_H
#define PIPEC_TESTCMD_H

/* argv: the arguments after `test`. Returns the exit code: 0 all passed, 1 a test failed,
 * 2 a spec with errors or bad usage. */
int cmd_test(int argc, char **argv);

#endif
