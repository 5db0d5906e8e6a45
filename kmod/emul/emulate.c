// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction emulator: a placeholder that knows no instruction yet,
 * so that MMIO and string port I/O end in an emulation-failure exit.
 */
#include "emulate.h"

int mv_emul_decode(struct mv_emul_ctxt *ctxt)
{
	return MV_EMUL_UNHANDLED;
}

int mv_emulate(struct mv_emul_ctxt *ctxt)
{
	return MV_EMUL_UNHANDLED;
}

void mv_emul_complete_read(struct mv_emul_ctxt *ctxt, const void *val,
			   unsigned int size)
{
}

void mv_emul_reset(struct mv_emul_ctxt *ctxt)
{
	ctxt->nr_reads = 0;
	ctxt->nr_cached = 0;
}
