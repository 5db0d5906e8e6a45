// SPDX-License-Identifier: GPL-2.0
/*
 * A guest-state fuzzer with a reference walker as the oracle.
 *
 * From a seed the host builds random 4-level page-table trees in a pool of
 * guest-physical frames (slot 1): random P/RW/US/NX/PS/A/D bits (never bit 8: AMD reserves it
 * in a PML4E), 2 MiB
 * and 1 GiB pages, now and then a reserved bit, tables pointed to from any
 * level (so one table serves at several levels, and many virtual pages
 * alias one frame), leaves onto data frames and onto the tables
 * themselves.  Each round it picks CR0.WP, CR4.SMEP/SMAP and EFER.NXE (as
 * the vCPU's CPUID allows) and a list of accesses: reads, writes and
 * instruction fetches at CPL 0 (RFLAGS.AC random) and CPL 3.  The guest
 * sets that state, rewrites the entries the host chose (then reloads CR3,
 * as the architecture requires), performs the accesses with #PF and #UD
 * handlers that record the outcome and skip the access, and reports.
 *
 * The host computes what every access must do with a reference walker of
 * its own and compares: fault or not, the #PF error code and CR2, the
 * value read, and afterwards every word of the pool, so the Accessed and
 * Dirty bits the walks set (and no others) and each write's landing place
 * are checked too.  Shadow paging must never give the guest an access its
 * own tables deny.
 *
 * The reference is independent of kmod/mmu/walk.c on purpose: the shadow
 * MMU uses walk.c, so checking it against walk.c would miss what both get
 * wrong; the kvm-selftest lines check this reference against KVM.
 *
 * What the architecture leaves open is not checked: the Accessed bit of
 * entries a faulting walk read (some walkers set it as they go), and the
 * I/D bit of a fetch's error code when neither NXE nor SMEP is on (AMD
 * leaves it undefined).  Writes into a frame walked as a table since the
 * last TLB flush become reads, and fetches go only to words that hold a
 * RET (every data word's low byte is 0xc3), so the outcome is determined.
 *
 * Options (besides the harness's): -s SEED (first seed, default 1), -n N
 * (seeds, default 8; 2 under Bochs, MV_BACKEND=vmx), -r N (rounds a seed,
 * default 24; 10 under Bochs).  A failure prints
 * the seed and round; "-s SEED -n 1" replays it.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "lib/guest.h"

#define MEM_SIZE	(16ULL << 20)
#define POOL_GPA	_BITULL(30)		/* slot 1; also 1 GiB aligned */
#define POOL_PAGES	1024ULL			/* 4 MiB: two 2 MiB regions */
#define POOL_SIZE	(POOL_PAGES * MV_PAGE_SIZE)
#define POOL_WORDS	(POOL_SIZE / 8)
#define NR_TABLES	40
#define MAX_MUT		8
#define MAX_ACC		48
#define MAX_INV		16

/* the fixed CPL 3 region: PML4 index 1, code page then stack page */
#define USER_BASE	_BITULL(39)
#define USER_STACK_TOP	(USER_BASE + 2 * MV_PAGE_SIZE)
#define SEL_UCODE	0x30
#define SEL_UDATA	0x38

#define PTE_US		_BITULL(2)
#define PF_P		0x1
#define PF_W		0x2
#define PF_U		0x4
#define PF_RSVD		0x8
#define PF_ID		0x10
#define X86_CR4_SMEP	_BITULL(20)
#define X86_CR4_SMAP	_BITULL(21)
#define ADDR_MASK	0x000ffffffffff000ULL

enum { ACC_READ, ACC_WRITE, ACC_FETCH };

struct fz_access {
	__u64 gva, val;
	__u32 type, cpl, ac, pad;
};

struct fz_result {
	__u64 val, err, cr2, fault;
};

/* One round, as the host sets it in the guest's copy. */
struct fz_round {
	__u64 stop;
	__u64 cr0_wp, cr4_smep_smap, nxe;
	__u64 flush;
	__u64 nmut, nacc, ninv;
	__u64 mut_gpa[MAX_MUT], mut_val[MAX_MUT];
	__u64 inv[MAX_INV];
	struct fz_access acc[MAX_ACC];
	struct fz_result res[MAX_ACC];
};

static struct fz_round g_round;

/* ------------------------------------------------------------ guest side */

/* what the handlers record for the access in flight */
static __u64 g_fault, g_err, g_cr2, g_val, g_ksp;

/*
 * CPL 0 probes: RDI is the address, RSI the value to write; RAX the value
 * read.  The fetch calls the target, a RET.  The CPL 3 stub does the same
 * by RDX (0 read, 1 write, 2 fetch) and ends in UD2; it sits alone in a
 * page that the host maps user-accessible at USER_BASE.
 */
asm(".pushsection .text\n"
	".globl ptfuzz_k_read, ptfuzz_k_read_end, ptfuzz_k_write\n"
	".globl ptfuzz_k_write_end, ptfuzz_k_fetch\n"
	"ptfuzz_k_read:\n"
	"	mov (%rdi), %rax\n"
	"ptfuzz_k_read_end:\n"
	"	ret\n"
	"ptfuzz_k_write:\n"
	"	mov %rsi, (%rdi)\n"
	"ptfuzz_k_write_end:\n"
	"	ret\n"
	"ptfuzz_k_fetch:\n"
	"	call *%rdi\n"
	"	ret\n"
	".popsection\n"
	".pushsection .text.ptfuzz_user, \"ax\"\n"
	"	.balign 4096\n"
	".globl ptfuzz_u_stub\n"
	"ptfuzz_u_stub:\n"
	"	cmp $1, %edx\n"
	"	je 1f\n"
	"	cmp $2, %edx\n"
	"	je 2f\n"
	"	mov (%rdi), %rax\n"
	"	ud2\n"
	"1:	mov %rsi, (%rdi)\n"
	"	ud2\n"
	"2:	call *%rdi\n"
	"	ud2\n"
	"	.balign 4096\n"
	".popsection\n");

static void guest_unexpected(struct mv_ex_regs *regs)
{
	for (;;)
		mv_ucall(UCALL_UNHANDLED, __FILE__, NULL, __LINE__,
			 regs->vector, regs->error_code, regs->rip,
			 read_cr2());
}

/* Back to the code after the probe that faulted or finished. */
static void guest_resume(struct mv_ex_regs *regs)
{
	if ((regs->cs & 3) == 3) {
		g_val = regs->rax;
		regs->rip = MV_ASM_ADDR(ptfuzz_u_back);
		regs->cs = MV_SEL_CODE64;
		regs->ss = MV_SEL_DATA;
		regs->rsp = g_ksp;
		regs->rflags = 0x202;
	} else if (regs->rip == MV_ASM_ADDR(ptfuzz_k_read)) {
		regs->rip = MV_ASM_ADDR(ptfuzz_k_read_end);
	} else if (regs->rip == MV_ASM_ADDR(ptfuzz_k_write)) {
		regs->rip = MV_ASM_ADDR(ptfuzz_k_write_end);
	} else if (regs->vector == 14 && regs->rip == g_cr2) {
		/* a fetch: return to the probe's caller, as the RET would */
		regs->rip = *(__u64 *)regs->rsp;
		regs->rsp += 8;
	} else {
		guest_unexpected(regs);
	}
}

static void guest_pf(struct mv_ex_regs *regs)
{
	g_fault = 1;
	g_err = regs->error_code;
	g_cr2 = read_cr2();
	guest_resume(regs);
}

static void guest_ud(struct mv_ex_regs *regs)
{
	if ((regs->cs & 3) != 3)
		guest_unexpected(regs);
	guest_resume(regs);
}

static __u64 guest_cpl0(const struct fz_access *a)
{
	__u64 v = 0;

	if (a->ac)
		asm volatile("pushf; orl $0x40000, (%%rsp); popf" ::: "memory", "cc");
	if (a->type == ACC_READ)
		asm volatile("call ptfuzz_k_read"
			     : "=a"(v) : "D"(a->gva) : "memory");
	else if (a->type == ACC_WRITE)
		asm volatile("call ptfuzz_k_write"
			     : : "D"(a->gva), "S"(a->val) : "memory");
	else
		asm volatile("call ptfuzz_k_fetch"
			     : : "D"(a->gva) : "memory");
	asm volatile("pushf; andl $~0x40000, (%%rsp); popf" ::: "memory", "cc");
	return v;
}

static __u64 guest_cpl3(const struct fz_access *a)
{
	__u64 rax = 0, rdi = a->gva, rsi = a->val, rdx = a->type;

	asm volatile("mov %%rsp, %[ksp]\n\t"
		     "pushq %[ss]\n\t"
		     "pushq %[usp]\n\t"
		     "pushq $0x202\n\t"
		     "pushq %[cs]\n\t"
		     "pushq %[uip]\n\t"
		     "iretq\n\t"
		     ".globl ptfuzz_u_back\n"
		     "ptfuzz_u_back:"
		     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx),
		       [ksp] "=m"(g_ksp)
		     : [ss] "i"(SEL_UDATA | 3), [cs] "i"(SEL_UCODE | 3),
		       [usp] "r"(USER_STACK_TOP), [uip] "r"(USER_BASE)
		     : "memory", "cc");
	return g_val;
}

static void guest_main(void)
{
	struct fz_round *r = &g_round;

	for (;;) {
		__u64 cr0, cr4, efer;

		if (r->stop)
			return;
		cr0 = read_cr0() & ~X86_CR0_WP;
		write_cr0(cr0 | r->cr0_wp);
		cr4 = read_cr4() & ~(X86_CR4_SMEP | X86_CR4_SMAP);
		write_cr4(cr4 | r->cr4_smep_smap);
		efer = rdmsr(MSR_EFER) & ~EFER_NXE;
		wrmsr(MSR_EFER, efer | (r->nxe ? EFER_NXE : 0));
		for (__u64 i = 0; i < r->nmut; i++)
			*(__u64 *)(uintptr_t)r->mut_gpa[i] = r->mut_val[i];
		if (r->flush)
			write_cr3(read_cr3());
		for (__u64 i = 0; i < r->ninv; i++)
			asm volatile("invlpg (%0)" : : "r"(r->inv[i]) : "memory");
		for (__u64 i = 0; i < r->nacc; i++) {
			const struct fz_access *a = &r->acc[i];
			struct fz_result *res = &r->res[i];
			__u64 v;

			g_fault = 0;
			g_err = 0;
			g_cr2 = 0;
			v = a->cpl ? guest_cpl3(a) : guest_cpl0(a);
			res->fault = g_fault;
			res->err = g_err;
			res->cr2 = g_cr2;
			res->val = v;
		}
		GUEST_SYNC(r->nacc);
	}
}

/* ------------------------------------------------------------- host side */

static __u64 opt_seed = 1, opt_seeds = 8, opt_rounds = 24;

/* What the vCPU's CPUID offers. */
struct fz_cpu {
	bool smep, smap, nx, gb1;
	unsigned int maxphy;
};

/* The paging state of one access. */
struct fz_env {
	bool wp, smep, smap, nxe, ac;
	int cpl;
};

/* The reference walk of one access. */
struct fz_walk {
	bool fault, out;
	__u32 err;
	__u64 gpa;
	int n;
	__u64 pte_gpa[4];
};

struct fz {
	__u64 rng;
	struct fz_cpu cpu;
	__u64 root;			/* gpa of the fuzzed PML4 */
	__u64 model[POOL_WORDS];	/* what the pool must hold */
	__u8 amaybe[POOL_WORDS];	/* Accessed bit left open */
	__u8 table[POOL_PAGES];		/* built as a table */
	__u8 walked[POOL_PAGES];	/* walked since the last flush */
	/*
	 * INVLPG instead of a flush: a word rewritten since the last flush
	 * (mutseq > flush_seq) may still be cached, in the TLB or the
	 * paging-structure caches, for any address whose walk reads it,
	 * unless that address's page had an INVLPG since (fresh[]).
	 */
	__u64 seq, flush_seq;
	__u64 mutseq[POOL_WORDS];
	__u64 fresh_page[MAX_ACC * 8], fresh_seq[MAX_ACC * 8];
	unsigned int nfresh;
	__u64 ninvlpg, nflush;
	__u64 tables[NR_TABLES];
	__u64 fixed0, fixed1;		/* root entries 0 and 1 */
};

static __u64 rnd(struct fz *f)
{
	/* splitmix64 */
	__u64 z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* true with probability @pct percent */
static bool chance(struct fz *f, unsigned int pct)
{
	return rnd(f) % 100 < pct;
}

static __u64 frame_gpa(__u64 i)
{
	return POOL_GPA + i * MV_PAGE_SIZE;
}

static bool in_pool(__u64 gpa)
{
	return gpa >= POOL_GPA && gpa < POOL_GPA + POOL_SIZE;
}

static __u64 *word(struct fz *f, __u64 gpa)
{
	return &f->model[(gpa - POOL_GPA) / 8];
}

/* A data word: RET in the low byte (P, RW, D, PS as an entry), a pool frame, bits of its place. */
static __u64 data_word(struct fz *f, __u64 i, __u64 j, bool random)
{
	__u64 fr = random ? rnd(f) % POOL_PAGES : (i + j) % POOL_PAGES;
	__u64 v = 0xc3 | frame_gpa(fr) | (j & 0x7f) << 52 | (j >> 7) << 9;

	if (random && chance(f, 20))
		v |= PTE_NX;
	return v;
}

/* An index of one level of a random address: the low and high ones are shared. */
static __u64 pick_index(struct fz *f)
{
	__u64 r = rnd(f) % 8;

	if (r < 4)
		return r;
	if (r < 6)
		return 508 + rnd(f) % 4;
	return rnd(f) % 512;
}

/* A random entry of a table built for @level. */
static __u64 make_entry(struct fz *f, int level)
{
	__u64 e = 0;
	bool ps = false;

	if (chance(f, 88))
		e |= PTE_P;
	if (chance(f, 70))
		e |= PTE_W;
	if (chance(f, 65))
		e |= PTE_US;
	if (chance(f, 40))
		e |= PTE_A;
	if (chance(f, 30))
		e |= PTE_D;
	if (f->cpu.nx && chance(f, 20))
		e |= PTE_NX;
	e |= (rnd(f) & 7) << 9 | (rnd(f) & 0x7f) << 52;
	if ((level == 4 && chance(f, 2)) || (level == 3 && f->cpu.gb1 && chance(f, 15)) ||
	    (level == 2 && chance(f, 25)) || (level == 1 && chance(f, 10)))
		ps = true;	/* at level 1 it is PAT */
	if (ps)
		e |= PTE_PS;
	if (level == 1) {
		if (chance(f, 80))
			e |= frame_gpa(rnd(f) % POOL_PAGES);
		else
			e |= f->tables[rnd(f) % NR_TABLES];
	} else if (ps && level == 2) {
		e |= chance(f, 85) ? POOL_GPA + (rnd(f) % 2) * (2ULL << 20) :
		     frame_gpa(rnd(f) % POOL_PAGES);
	} else if (ps && level == 3) {
		e |= chance(f, 85) ? POOL_GPA : frame_gpa(rnd(f) % POOL_PAGES);
	} else {
		e |= f->tables[rnd(f) % NR_TABLES];
	}
	if (f->cpu.maxphy < 52 && chance(f, 2))
		e |= 1ULL << (f->cpu.maxphy + rnd(f) % (52 - f->cpu.maxphy));
	return e;
}

/* Reserved bits of an entry at @level (4-level paging, no PKE). */
static __u64 rsvd_bits(const struct fz *f, const struct fz_env *env, int level,
		       __u64 e)
{
	__u64 r = ((1ULL << 52) - 1) & ~((1ULL << f->cpu.maxphy) - 1);

	if (!env->nxe)
		r |= PTE_NX;
	if (level == 4 || (level == 3 && !f->cpu.gb1))
		r |= PTE_PS;
	if (e & PTE_PS) {
		if (level == 2)
			r |= 0xffULL << 13;
		if (level == 3)
			r |= 0x1ffffULL << 13;
	}
	return r;
}

static __u32 access_bits(const struct fz_env *env, int type)
{
	__u32 b = 0;

	if (type == ACC_WRITE)
		b |= PF_W;
	if (env->cpl == 3)
		b |= PF_U;
	if (type == ACC_FETCH && (env->nxe || env->smep))
		b |= PF_ID;
	return b;
}

/*
 * The reference: what @type at @gva does in @env on the model.  With
 * @update the Accessed and Dirty bits are set as a successful access sets
 * them, and those of the entries a faulting walk read are left open.
 */
static void ref_walk(struct fz *f, const struct fz_env *env, __u64 gva, int type,
		     bool update, struct fz_walk *w)
{
	__u64 table = f->root, e = 0, *p;
	bool rw = true, us = true, nx = false, fault = false;
	int level;

	memset(w, 0, sizeof(*w));
	for (level = 4; level >= 1; level--) {
		__u64 pa = table + 8 * ((gva >> (12 + 9 * (level - 1))) & 511);

		if (!in_pool(pa)) {
			w->out = true;
			return;
		}
		w->pte_gpa[w->n++] = pa;
		e = *word(f, pa);
		if (!(e & PTE_P)) {
			w->err = access_bits(env, type);
			goto fault;
		}
		if (e & rsvd_bits(f, env, level, e)) {
			w->err = PF_P | PF_RSVD | access_bits(env, type);
			goto fault;
		}
		rw &= !!(e & PTE_W);
		us &= !!(e & PTE_US);
		nx |= env->nxe && (e & PTE_NX);
		if (level == 1 || (level <= 3 && (e & PTE_PS)))
			break;
		table = e & ((1ULL << f->cpu.maxphy) - 1) & ADDR_MASK;
	}
	if (level == 1)
		w->gpa = (e & ADDR_MASK) | (gva & 0xfff);
	else if (level == 2)
		w->gpa = (e & ADDR_MASK & ~((2ULL << 20) - 1)) | (gva & ((2ULL << 20) - 1));
	else
		w->gpa = (e & ADDR_MASK & ~((1ULL << 30) - 1)) | (gva & ((1ULL << 30) - 1));

	if (env->cpl == 3) {
		fault = !us || (type == ACC_WRITE && !rw);
	} else {
		fault = type == ACC_WRITE && !rw && env->wp;
		if (us && type == ACC_FETCH && env->smep)
			fault = true;
		if (us && type != ACC_FETCH && env->smap && !env->ac)
			fault = true;
	}
	if (type == ACC_FETCH && nx)
		fault = true;
	if (fault) {
		w->err = PF_P | access_bits(env, type);
		goto fault;
	}
	if (!in_pool(w->gpa)) {
		w->out = true;
		return;
	}
	if (update) {
		for (int i = 0; i < w->n; i++) {
			p = word(f, w->pte_gpa[i]);
			*p |= PTE_A;
			f->amaybe[p - f->model] = 0;
		}
		if (type == ACC_WRITE)
			*word(f, w->pte_gpa[w->n - 1]) |= PTE_D;
	}
	return;

fault:
	w->fault = true;
	if (!update)
		return;
	for (int i = 0; i < w->n; i++) {
		p = word(f, w->pte_gpa[i]);
		if ((*p & PTE_P) && !(*p & PTE_A))
			f->amaybe[p - f->model] = 1;
	}
}

/* When @gva's page last had an INVLPG since the last flush, or 0. */
static __u64 fresh_since(const struct fz *f, __u64 gva)
{
	for (unsigned int i = f->nfresh; i-- > 0;)
		if (f->fresh_page[i] == (gva & ~0xfffULL))
			return f->fresh_seq[i];
	return 0;
}

/* Does the architecture fix what an access with walk @w at @gva sees? */
static bool determined(const struct fz *f, const struct fz_walk *w, __u64 gva)
{
	__u64 fresh = fresh_since(f, gva);

	for (int i = 0; i < w->n; i++) {
		__u64 m = f->mutseq[(w->pte_gpa[i] - POOL_GPA) / 8];

		if (m > f->flush_seq && m >= fresh)
			return false;
	}
	return true;
}

static __u64 canonical(__u64 va)
{
	return va & (1ULL << 47) ? va | 0xffff000000000000ULL : va;
}

/* A random address in PML4 slots 2 to 511 that the reference can judge. */
static __u64 pick_gva(struct fz *f, const struct fz_env *env, int type)
{
	struct fz_walk w;
	__u64 gva = 0;

	for (int tries = 0; tries < 64; tries++) {
		__u64 l4 = pick_index(f);

		if (l4 < 2)
			l4 = 2 + rnd(f) % 510;
		gva = canonical(l4 << 39 | pick_index(f) << 30 |
				pick_index(f) << 21 | pick_index(f) << 12 |
				(rnd(f) % 512) * 8);
		ref_walk(f, env, gva, type, false, &w);
		if (!w.out)
			return gva;
	}
	return 0;
}

static void build_pool(struct fz *f)
{
	memset(f->table, 0, sizeof(f->table));
	memset(f->amaybe, 0, sizeof(f->amaybe));
	memset(f->walked, 0, sizeof(f->walked));
	for (int t = 0; t < NR_TABLES; t++) {
		__u64 i;

		do {
			i = rnd(f) % POOL_PAGES;
		} while (f->table[i]);
		f->table[i] = 1 + rnd(f) % 4;	/* the level it is built for */
		f->tables[t] = frame_gpa(i);
	}
	f->root = f->tables[0];
	f->table[(f->root - POOL_GPA) / MV_PAGE_SIZE] = 4;
	for (__u64 i = 0; i < POOL_PAGES; i++)
		for (__u64 j = 0; j < 512; j++)
			f->model[i * 512 + j] = f->table[i] ?
				make_entry(f, f->table[i]) :
				data_word(f, i, j, false);
	*word(f, f->root) = f->fixed0;
	*word(f, f->root + 8) = f->fixed1;
}

static const char *const acc_names[] = { "read", "write", "fetch" };

/* Prints access @k of a round that did not do what the reference says. */
static void report(struct fz *f, __u64 seed, __u64 round, __u64 k,
		   const struct fz_env *env, const struct fz_access *a,
		   const struct fz_result *res, const struct fz_walk *w,
		   __u64 want)
{
	fprintf(stderr, "# seed %llu round %llu access %llu: %s at CPL %u (AC %u) of %#llx\n",
		seed, round, k, acc_names[a->type], a->cpl, a->ac,
		a->gva);
	fprintf(stderr, "#   CR0.WP %d CR4.SMEP %d CR4.SMAP %d EFER.NXE %d\n",
		env->wp, env->smep, env->smap, env->nxe);
	fprintf(stderr, "#   expected: %s error %#x gpa %#llx value %#llx\n",
		w->fault ? "#PF" : "no fault", w->err,
		w->gpa, want);
	fprintf(stderr, "#   guest saw: %s error %#llx cr2 %#llx value %#llx\n",
		res->fault ? "#PF" : "no fault", res->err,
		res->cr2, res->val);
	for (int i = 0; i < w->n; i++)
		fprintf(stderr, "#   level %d entry at %#llx: %#llx\n", 4 - i,
			w->pte_gpa[i],
			*word(f, w->pte_gpa[i]));
}

/* A page of slot 0 for the fixed CPL 3 region's tables. */
static __u64 *user_table(struct mv_vm *vm, __u64 *gpa)
{
	*gpa = mv_vm_alloc(vm, MV_PAGE_SIZE);
	return *gpa ? mv_gpa2hva(vm, *gpa) : NULL;
}

static void host_cpu(struct mv_vm *vm, struct fz_cpu *cpu)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	memset(cpu, 0, sizeof(*cpu));
	cpu->maxphy = 36;
	if (!c)
		return;
	c->nent = 256;
	if (!ioctl(vm->dev, KVM_GET_SUPPORTED_CPUID, c)) {
		for (__u32 i = 0; i < c->nent; i++) {
			struct kvm_cpuid_entry2 *e = &c->entries[i];

			if (e->function == 7 && e->index == 0) {
				cpu->smep = e->ebx & (1u << 7);
				cpu->smap = e->ebx & (1u << 20);
			} else if (e->function == 0x80000001) {
				cpu->nx = e->edx & (1u << 20);
				cpu->gb1 = e->edx & (1u << 26);
			} else if (e->function == 0x80000008) {
				cpu->maxphy = e->eax & 0xff;
			}
		}
	}
	free(c);
}

/*
 * One seed: a VM, a vCPU on the fuzzed tables, @rounds rounds.  Returns
 * 0, 1 on a mismatch (printed), or -1 when the VM cannot run here.
 */
static int fuzz_seed(struct __test_metadata *_metadata, __u64 seed,
		     __u64 rounds)
{
	static struct fz fzs;
	struct fz *f = &fzs;
	struct fz_env env = { 0 };
	struct mv_vm *vm;
	struct mv_vcpu *vcpu;
	struct kvm_sregs sregs;
	struct mv_ucall uc;
	struct fz_round *gr;
	__u64 *pool, *gdt, *t, pdpt, pd, pt, kstack, checked = 0, faults = 0;
	int bad = 0;

	memset(f, 0, sizeof(*f));
	f->rng = seed;
	vm = mv_vm_create(MEM_SIZE);
	if (!vm && (errno == EOPNOTSUPP || errno == ENOENT))
		return -1;
	ASSERT_NE(NULL, vm) TH_LOG("vm: %s", strerror(errno));
	host_cpu(vm, &f->cpu);
	if (seed == opt_seed)
		ksft_print_msg("MAXPHYADDR %u, SMEP %d, SMAP %d, NX %d, 1 GiB pages %d\n",
			       f->cpu.maxphy, f->cpu.smep, f->cpu.smap, f->cpu.nx,
			       f->cpu.gb1);
	pool = mmap(NULL, POOL_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pool);
	ASSERT_EQ(0, mv_vm_add_slot(vm, 1, POOL_GPA, POOL_SIZE, pool));
	ASSERT_EQ(0, mv_vm_map(vm, POOL_GPA, POOL_GPA, POOL_SIZE, PTE_W));

	/* the CPL 3 region: code page (the stub's frame) and stack page */
	t = user_table(vm, &pdpt);
	ASSERT_NE(NULL, t);
	t[0] = 0;
	f->fixed1 = pdpt | PTE_P | PTE_W | PTE_US | PTE_A;
	t = user_table(vm, &pd);
	ASSERT_NE(NULL, t);
	*(__u64 *)mv_gpa2hva(vm, pdpt) = pd | PTE_P | PTE_W | PTE_US | PTE_A;
	t = user_table(vm, &pt);
	ASSERT_NE(NULL, t);
	*(__u64 *)mv_gpa2hva(vm, pd) = pt | PTE_P | PTE_W | PTE_US | PTE_A;
	t[0] = mv_gva2gpa(vm, MV_ASM_ADDR(ptfuzz_u_stub)) | PTE_P | PTE_US | PTE_A;
	t[1] = mv_vm_alloc(vm, MV_PAGE_SIZE) | PTE_P | PTE_W | PTE_US | PTE_A | PTE_D;
	ASSERT_NE(0, t[1] & ADDR_MASK);
	f->fixed0 = *(__u64 *)mv_gpa2hva(vm, vm->pml4) | PTE_A;

	/* CPL 3 segments, and a stack for exceptions from CPL 3 */
	gdt = mv_gpa2hva(vm, vm->gdt);
	gdt[SEL_UCODE / 8] = 0x00affb000000ffffULL;
	gdt[SEL_UDATA / 8] = 0x00cff3000000ffffULL;
	kstack = mv_vm_alloc(vm, 4 * MV_PAGE_SIZE);
	ASSERT_NE(0, kstack);
	kstack += 4 * MV_PAGE_SIZE;
	memcpy((__u8 *)mv_gpa2hva(vm, vm->tss) + 4, &kstack, 8);

	build_pool(f);
	memcpy(pool, f->model, POOL_SIZE);

	mv_vm_set_handler(vm, 14, guest_pf);
	mv_vm_set_handler(vm, 6, guest_ud);
	vcpu = mv_vcpu_add(vm, 0, guest_main, 0, 0);
	if (!vcpu && errno == EOPNOTSUPP) {
		mv_vm_free(vm);
		munmap(pool, POOL_SIZE);
		return -1;
	}
	ASSERT_NE(NULL, vcpu) TH_LOG("vcpu: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_GET_SREGS, &sregs));
	sregs.cr3 = f->root;
	sregs.gdt.limit = SEL_UDATA + 7;
	ASSERT_EQ(0, ioctl(vcpu->fd, KVM_SET_SREGS, &sregs));
	gr = mv_gva2hva(vm, (uintptr_t)&g_round);
	ASSERT_NE(NULL, gr);

	for (__u64 round = 0; round < rounds && !bad; round++) {
		struct fz_walk w;
		bool envchange = round == 0 || chance(f, 25);

		memset(gr, 0, sizeof(*gr));
		if (envchange) {
			env.wp = chance(f, 50);
			env.smep = f->cpu.smep && chance(f, 40);
			env.smap = f->cpu.smap && chance(f, 40);
			env.nxe = f->cpu.nx && chance(f, 60);
		}
		gr->cr0_wp = env.wp ? X86_CR0_WP : 0;
		gr->cr4_smep_smap = (env.smep ? X86_CR4_SMEP : 0) |
				    (env.smap ? X86_CR4_SMAP : 0);
		gr->nxe = env.nxe;
		if (round && chance(f, 70))
			gr->nmut = 1 + rnd(f) % MAX_MUT;
		f->seq++;
		for (__u64 m = 0; m < gr->nmut; m++) {
			__u64 i, gpa;

			do {
				if (chance(f, 80)) {
					i = rnd(f) % NR_TABLES;
					gpa = f->tables[i] + 8 * pick_index(f);
				} else {
					i = rnd(f) % POOL_PAGES;
					gpa = frame_gpa(i) + 8 * (rnd(f) % 512);
				}
			} while (gpa == f->root || gpa == f->root + 8);
			i = (gpa - POOL_GPA) / MV_PAGE_SIZE;
			gr->mut_gpa[m] = gpa;
			gr->mut_val[m] = f->table[i] ?
				make_entry(f, f->table[i]) :
				data_word(f, i, (gpa / 8) % 512, true);
			*word(f, gpa) = gr->mut_val[m];
			f->amaybe[(gpa - POOL_GPA) / 8] = 0;
			f->mutseq[(gpa - POOL_GPA) / 8] = f->seq;
		}
		/* rewritten entries: a CR3 reload, or INVLPG of some pages */
		gr->flush = envchange || (gr->nmut && chance(f, 50)) || chance(f, 10);
		f->seq++;
		f->nflush += gr->flush;
		if (gr->flush) {
			memset(f->walked, 0, sizeof(f->walked));
			f->flush_seq = f->seq;
			f->nfresh = 0;
		}

		/* pass 1: the accesses, and every frame their walks read */
		gr->nacc = MAX_ACC / 2 + rnd(f) % (MAX_ACC / 2 + 1);
		for (__u64 k = 0; k < gr->nacc; k++) {
			struct fz_access *a = &gr->acc[k];

			a->cpl = chance(f, 40) ? 3 : 0;
			a->ac = !a->cpl && chance(f, 50);
			a->type = rnd(f) % 100 < 45 ? ACC_READ :
				  rnd(f) % 100 < 60 ? ACC_WRITE : ACC_FETCH;
			env.cpl = a->cpl;
			env.ac = a->ac;
			a->gva = pick_gva(f, &env, a->type);
			if (a->gva && !gr->flush && gr->ninv < MAX_INV &&
			    f->nfresh < MAX_ACC * 8 && chance(f, 60)) {
				gr->inv[gr->ninv++] = a->gva;
				f->ninvlpg++;
				f->fresh_page[f->nfresh] = a->gva & ~0xfffULL;
				f->fresh_seq[f->nfresh++] = f->seq;
			}
			if (a->gva) {
				ref_walk(f, &env, a->gva, a->type, false, &w);
				if (!determined(f, &w, a->gva))
					a->gva = 0;
			}
			if (!a->gva) {
				/* none judgeable found: read the user stack page */
				a->gva = USER_STACK_TOP - 8;
				a->type = ACC_READ;
				a->cpl = 3;
				continue;
			}
			ref_walk(f, &env, a->gva, a->type, false, &w);
			for (int i = 0; i < w.n; i++)
				f->walked[(w.pte_gpa[i] - POOL_GPA) / MV_PAGE_SIZE] = 1;
		}

		/* pass 2: in order, on the model, what each must do */
		for (__u64 k = 0; k < gr->nacc; k++) {
			struct fz_access *a = &gr->acc[k];

			if (a->gva == USER_STACK_TOP - 8)
				continue;
			env.cpl = a->cpl;
			env.ac = a->ac;
			ref_walk(f, &env, a->gva, a->type, false, &w);
			if (!w.fault && a->type == ACC_WRITE &&
			    f->walked[(w.gpa - POOL_GPA) / MV_PAGE_SIZE])
				a->type = ACC_READ;
			if (!w.fault && a->type == ACC_FETCH) {
				__u64 i = (w.gpa - POOL_GPA) / MV_PAGE_SIZE;

				if (f->table[i] || f->walked[i] ||
				    (*word(f, w.gpa) & 0xff) != 0xc3)
					a->type = ACC_READ;
			}
			a->val = data_word(f, (w.gpa - POOL_GPA) / MV_PAGE_SIZE,
					   (w.gpa / 8) % 512, true);
		}

		if (mv_vcpu_run_ucall(vcpu, &uc) != UCALL_SYNC) {
			char buf[512];

			fprintf(stderr, "# seed %llu round %llu: %s\n",
				seed, round,
				mv_exit_str(vcpu, &uc, buf, sizeof(buf)));
			bad = 1;
			break;
		}

		for (__u64 k = 0; k < gr->nacc && !bad; k++) {
			struct fz_access *a = &gr->acc[k];
			struct fz_result *res = &gr->res[k];
			__u32 idmask = ~0u;
			__u64 want = 0, mask = ~0ULL;

			if (a->gva == USER_STACK_TOP - 8)
				continue;
			env.cpl = a->cpl;
			env.ac = a->ac;
			ref_walk(f, &env, a->gva, a->type, true, &w);
			if (!w.fault && a->type == ACC_WRITE)
				*word(f, w.gpa) = a->val;
			if (!w.fault && a->type == ACC_READ) {
				want = *word(f, w.gpa);
				if (f->amaybe[(w.gpa - POOL_GPA) / 8])
					mask &= ~PTE_A;
			}
			if (a->type == ACC_FETCH && !env.nxe && !env.smep)
				idmask = ~PF_ID;
			/*
			 * The SDM sets P with RSVD; QEMU 7.2's TCG leaves it
			 * clear (kvm_amd on NPT reports the same there)
			 */
			if ((w.err & PF_RSVD) && (res->err & PF_RSVD))
				idmask &= ~PF_P;
			checked++;
			faults += w.fault;
			if (res->fault == w.fault &&
			    (!w.fault || ((res->err & idmask) == (w.err & idmask) &&
					  res->cr2 == a->gva)) &&
			    (w.fault || a->type != ACC_READ ||
			     (res->val & mask) == (want & mask)))
				continue;
			report(f, seed, round, k, &env, a, res, &w, want);
			bad = 1;
		}

		/* every word of the pool: A/D bits, where the writes went */
		for (__u64 i = 0; i < POOL_WORDS && !bad; i++) {
			__u64 m = f->amaybe[i] ? ~PTE_A : ~0ULL;

			if ((pool[i] & m) == (f->model[i] & m)) {
				f->model[i] = pool[i];
				f->amaybe[i] = 0;
				continue;
			}
			fprintf(stderr, "# seed %llu round %llu: pool word at %#llx\n",
				seed, round, POOL_GPA + 8 * i);
			fprintf(stderr, "#   (%s frame) is %#llx, expected %#llx\n",
				f->table[i / 512] ? "table" : "data",
				pool[i], f->model[i]);
			bad = 1;
		}
	}
	if (!bad) {
		gr->stop = 1;
		ASSERT_UCALL(vcpu, &uc, UCALL_DONE);
	}
	ksft_print_msg("seed %llu: %llu accesses, %llu #PF, %llu INVLPG, %llu CR3 loads\n",
		       seed, checked, faults, f->ninvlpg, f->nflush);
	mv_vm_free(vm);
	munmap(pool, POOL_SIZE);
	return bad;
}

/* no state: a fixture only for the timeout, the long runs take minutes */
FIXTURE(ptfuzz) {
	int unused;
};

FIXTURE_SETUP(ptfuzz)
{
}

FIXTURE_TEARDOWN(ptfuzz)
{
}

TEST_F_TIMEOUT(ptfuzz, long_mode, 3600)
{
	int bad = 0;

	for (__u64 s = opt_seed; s < opt_seed + opt_seeds; s++) {
		int r = fuzz_seed(_metadata, s, opt_rounds);

		if (r < 0)
			SKIP(return, "no vCPUs on this backend");
		bad |= r;
	}
	ASSERT_EQ(0, bad);
}

/* Takes -s, -n and -r out of argv, then runs the harness on the rest. */
int main(int argc, char **argv)
{
	const char *be = getenv("MV_BACKEND");
	int n = 1;

	/* Bochs: an exit costs milliseconds */
	if (be && !strcmp(be, "vmx")) {
		opt_seeds = 2;
		opt_rounds = 10;
	}
	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "-s"))
			opt_seed = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "-n"))
			opt_seeds = strtoull(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "-r"))
			opt_rounds = strtoull(argv[++i], NULL, 0);
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return test_harness_run(n, argv);
}
