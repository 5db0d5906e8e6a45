// SPDX-License-Identifier: GPL-2.0
/*
 * Two VMs with two vCPUs each, all four running at once, one host thread
 * per vCPU (and, to tell problems apart, one VM with two vCPUs and two
 * VMs with one).  Each vCPU makes many exits; at each one the host checks what
 * the guest wrote to its own memory and to memory both vCPUs of the VM
 * share, and leaves a value the guest checks after the exit.  At the end
 * the shared counters hold every increment.  Written against <linux/kvm.h>
 * only.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "lib/guest.h"

#define NR_VMS		2
#define NR_VCPUS	2
#define PRIV_WORDS	512

/* Guest memory of one vCPU, written by it and by its host thread. */
struct priv {
	__u64 words[PRIV_WORDS];	/* the guest's */
	__u64 from_host;		/* the host thread's, before each run */
};

/* Guest memory the vCPUs of one VM share. */
struct shared {
	__u64 counter;		/* LOCK XADD by both vCPUs */
	__u64 last[NR_VCPUS];	/* each vCPU's last iteration */
};

static __u64 value(__u64 vm, __u64 id, __u64 i)
{
	return (vm << 56) | (id << 48) | (i * 0x9e3779b97f4a7c15ULL >> 16);
}

static void guest_worker(struct priv *p, __u64 arg)
{
	struct shared *sh = (struct shared *)(arg & 0xfffff000ULL);
	__u64 vm = arg >> 8 & 0xf, id = arg & 0xf, n = arg >> 32;

	for (__u64 i = 1; i <= n; i++) {
		__u64 one = 1;

		p->words[i % PRIV_WORDS] = value(vm, id, i);
		if (i > 1)
			GUEST_ASSERT_EQ(p->words[(i - 1) % PRIV_WORDS],
					value(vm, id, i - 1));
		asm volatile("lock xaddq %0, %1"
			     : "+r"(one), "+m"(sh->counter) : : "memory");
		sh->last[id] = i;
		GUEST_SYNC2(i, value(vm, id, i));
		GUEST_ASSERT_EQ(p->from_host, i * 3 + id);
	}
}

struct worker {
	struct mv_vcpu *vcpu;
	struct priv *priv;		/* the host's view of the guest's */
	struct shared *sh;
	unsigned int vm, id, n;
	char error[512];		/* written by the thread, read after join */
};

/*
 * What multivm.sh retries in the QEMU machine: the guest's state replaced
 * by the host's (a RIP in the kernel half, which this guest never runs)
 * or a shutdown, as QEMU 7.2's TCG leaves a VMCB now and then when the
 * vCPUs run on both CPUs (testing/multivm.sh).
 */
#define LOST_STATE "[guest state lost]"

static bool lost_state(struct mv_vcpu *vcpu, const struct kvm_regs *r)
{
	return vcpu->run->exit_reason == KVM_EXIT_SHUTDOWN ||
	       r->rip >= 0xffff800000000000ULL;
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	struct mv_ucall uc;
	char buf[400];

	for (unsigned int i = 1; i <= w->n; i++) {
		__u64 want = value(w->vm, w->id, i);
		__u64 cmd = mv_vcpu_run_ucall(w->vcpu, &uc);

		if (cmd != UCALL_SYNC || uc.args[0] != i || uc.args[1] != want ||
		    w->priv->words[i % PRIV_WORDS] != want ||
		    __atomic_load_n(&w->sh->last[w->id], __ATOMIC_RELAXED) != i) {
			struct kvm_sregs s = { 0 };
			struct kvm_regs r = { 0 };

			struct mv_vm *vm = w->vcpu->vm;
			__u64 *pte = mv_vm_pte(vm, vm->idt);

			ioctl(w->vcpu->fd, KVM_GET_REGS, &r);
			ioctl(w->vcpu->fd, KVM_GET_SREGS, &s);
			/* the guest's tables as the host sees them: unchanged? */
			snprintf(w->error, sizeof(w->error),
				 "vm %u vcpu %u exit %u: %s, memory %#llx, rip %#llx rsp %#llx cr2 %#llx; leaf mapping the IDT %#llx%s",
				 w->vm, w->id, i,
				 mv_exit_str(w->vcpu, &uc, buf, sizeof(buf)),
				 (unsigned long long)w->priv->words[i % PRIV_WORDS],
				 r.rip, r.rsp, s.cr2,
				 pte ? (unsigned long long)*pte : 0ULL,
				 lost_state(w->vcpu, &r) ? " " LOST_STATE : "");
			return NULL;
		}
		w->priv->from_host = i * 3 + w->id;
	}
	if (mv_vcpu_run_ucall(w->vcpu, &uc) != UCALL_DONE)
		snprintf(w->error, sizeof(w->error), "vm %u vcpu %u: %s",
			 w->vm, w->id, mv_exit_str(w->vcpu, &uc, buf, sizeof(buf)));
	return NULL;
}

FIXTURE(multi) {
	int unused;
};

/* How many VMs, and vCPUs in each, run at once. */
FIXTURE_VARIANT(multi) {
	unsigned int vms, vcpus;
};

FIXTURE_VARIANT_ADD(multi, one_vm_two_vcpus) {
	.vms = 1, .vcpus = 2,
};

FIXTURE_VARIANT_ADD(multi, two_vms_one_vcpu) {
	.vms = 2, .vcpus = 1,
};

FIXTURE_VARIANT_ADD(multi, two_vms_two_vcpus) {
	.vms = 2, .vcpus = 2,
};

FIXTURE_SETUP(multi)
{
}

FIXTURE_TEARDOWN(multi)
{
}

TEST_F_TIMEOUT(multi, exits_and_memory, 600)
{
	const unsigned int nvms = variant->vms, nvcpus = variant->vcpus;
	const char *env = getenv("MV_EXITS");
	unsigned int n = (env ? atoi(env) : 20000) / (nvms * nvcpus);
	struct worker w[NR_VMS][NR_VCPUS];
	pthread_t t[NR_VMS][NR_VCPUS];
	struct mv_vm *vms[NR_VMS];
	struct shared *sh[NR_VMS];

	memset(w, 0, sizeof(w));
	for (unsigned int v = 0; v < nvms; v++) {
		__u64 gsh;

		vms[v] = mv_vm_create(16 << 20);
		ASSERT_NE(NULL, vms[v]) TH_LOG("vm: %s", strerror(errno));
		gsh = mv_vm_alloc(vms[v], 4096);
		sh[v] = mv_gpa2hva(vms[v], gsh);
		for (unsigned int c = 0; c < nvcpus; c++) {
			__u64 gp = mv_vm_alloc(vms[v], sizeof(struct priv));

			w[v][c] = (struct worker) {
				.priv = mv_gpa2hva(vms[v], gp), .sh = sh[v],
				.vm = v, .id = c, .n = n,
			};
			w[v][c].vcpu = mv_vcpu_add(vms[v], c, guest_worker, gp,
						   gsh | (__u64)n << 32 | v << 8 | c);
			if (!w[v][c].vcpu && errno == EOPNOTSUPP)
				SKIP(return, "no vCPUs on this backend yet");
			ASSERT_NE(NULL, w[v][c].vcpu)
				TH_LOG("vcpu: %s", strerror(errno));
		}
	}

	for (unsigned int v = 0; v < nvms; v++)
		for (unsigned int c = 0; c < nvcpus; c++)
			ASSERT_EQ(0, pthread_create(&t[v][c], NULL,
						    worker_thread, &w[v][c]));
	for (unsigned int v = 0; v < nvms; v++)
		for (unsigned int c = 0; c < nvcpus; c++)
			ASSERT_EQ(0, pthread_join(t[v][c], NULL));

	for (unsigned int v = 0; v < nvms; v++) {
		for (unsigned int c = 0; c < nvcpus; c++) {
			struct worker *x = &w[v][c];

			EXPECT_STREQ("", x->error);
			EXPECT_EQ(n, sh[v]->last[c]);
			/* the last PRIV_WORDS values, each where it belongs */
			for (unsigned int i = n > PRIV_WORDS ? n - PRIV_WORDS + 1 : 1;
			     i <= n; i++) {
				ASSERT_EQ(value(v, c, i), x->priv->words[i % PRIV_WORDS])
					TH_LOG("vm %u vcpu %u word %u", v, c, i);
			}
		}
		EXPECT_EQ(nvcpus * n, sh[v]->counter);
		mv_vm_free(vms[v]);
	}
}

TEST_HARNESS_MAIN
