// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU lifetime, the vCPU fd's ioctls and the KVM_RUN loop.
 *
 * The loop is vendor-neutral: mv_vcpu_enter_guest() services the vCPU's
 * requests and loads its MMU root, then the backend's vcpu_run() enters the
 * guest once and handles the exit, returning > 0 to go round again, 0 to
 * return to userspace with struct kvm_run filled in, or a negative errno.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/fpu/api.h>

#include "compat.h"
#include "cr.h"
#include "emul/emulate.h"
#include "event.h"
#include "exit.h"
#include "mmu/mmu.h"
#include "msr.h"
#include "mv.h"
#include "stats.h"
#include "vcpu.h"
#include "virt.h"
#include "vm.h"

static inline struct mv_vcpu *pn_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct mv_vcpu, pn);
}

static void mv_vcpu_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct mv_vcpu *vcpu = pn_to_vcpu(pn);

	WRITE_ONCE(vcpu->cpu, cpu);
	mv_ops->vcpu_load(vcpu, cpu);
}

static void mv_vcpu_sched_out(struct preempt_notifier *pn,
			      struct task_struct *next)
{
	mv_ops->vcpu_put(pn_to_vcpu(pn));
}

static struct preempt_ops mv_preempt_ops = {
	.sched_in = mv_vcpu_sched_in,
	.sched_out = mv_vcpu_sched_out,
};

/* Loads the backend state on this CPU and follows the thread after. */
static void mv_vcpu_load(struct mv_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_register(&vcpu->pn);
	WRITE_ONCE(vcpu->cpu, cpu);
	mv_ops->vcpu_load(vcpu, cpu);
	put_cpu();
}

static void mv_vcpu_put(struct mv_vcpu *vcpu)
{
	preempt_disable();
	mv_ops->vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->pn);
	preempt_enable();
}

static void mv_kick_ipi(void *unused)
{
}

/**
 * mv_vcpu_kick() - make a vCPU notice its requests
 * @vcpu: the vCPU
 *
 * A vCPU in the guest is sent an IPI, which makes it exit; one outside
 * checks its requests, with interrupts off, before it enters again
 * (mv_vcpu_enter_irqoff()).  Waits for the IPI, so it returns only when
 * @vcpu can no longer be in the guest without having seen what was
 * requested before the call.  Does not sleep (the mmu_notifier calls it
 * where it must not) but may not be called with interrupts off.
 */
void mv_vcpu_kick(struct mv_vcpu *vcpu)
{
	int cpu;

	/* Pairs with mv_vcpu_enter_irqoff(): requests first, then mode. */
	smp_mb();
	cpu = READ_ONCE(vcpu->cpu);
	if (READ_ONCE(vcpu->mode) == MV_IN_GUEST && cpu >= 0)
		smp_call_function_single(cpu, mv_kick_ipi, NULL, 1);
}

/**
 * mv_vcpu_request() - ask a vCPU to do @req before it runs guest code again
 * @vcpu: the vCPU
 * @req: the request
 *
 * From any thread; from the vCPU's own (which is not in the guest) it only
 * sets the bit.  Same context rules as mv_vcpu_kick().
 */
void mv_vcpu_request(struct mv_vcpu *vcpu, enum mv_vcpu_request req)
{
	set_bit(req, &vcpu->requests);
	mv_vcpu_kick(vcpu);
}

/**
 * mv_vcpu_request_all() - mv_vcpu_request() on every vCPU of a VM
 * @vm: the VM
 * @req: the request
 */
void mv_vcpu_request_all(struct mv_vm *vm, enum mv_vcpu_request req)
{
	/* pairs with mv_vcpu_create(): the vCPUs below the count are whole */
	unsigned int i, n = smp_load_acquire(&vm->nr_vcpus);

	for (i = 0; i < n; i++)
		mv_vcpu_request(mv_vm_vcpu(vm, i), req);
}

/* Takes @req if it was asked: the vCPU's own thread only. */
static bool mv_vcpu_take_request(struct mv_vcpu *vcpu,
				 enum mv_vcpu_request req)
{
	return test_bit(req, &vcpu->requests) &&
		test_and_clear_bit(req, &vcpu->requests);
}

/**
 * mv_vcpu_enter_guest() - service the requests, then enter the guest once
 * @vcpu: the vCPU, loaded, on its own thread
 *
 * The one way into the guest: the requests are taken here (a triple fault
 * ends KVM_RUN; a TLB flush becomes the backend's flush_tlb op), the MMU
 * gives the backend the root to run on (mv_mmu_load()), and the backend's
 * vcpu_run op enters and handles the exit.  A request that comes after
 * this point is caught by mv_vcpu_enter_irqoff() in the backend.
 *
 * Return: > 0 to enter again, 0 to return to userspace with struct kvm_run
 * filled in, or a negative errno.
 */
static int mv_vcpu_enter_guest(struct mv_vcpu *vcpu)
{
	int r;

	if (unlikely(mv_vcpu_take_request(vcpu, MV_REQ_TRIPLE_FAULT))) {
		vcpu->run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	}
	/* may sleep, and may ask for a TLB flush: before the flush below */
	r = mv_mmu_load(vcpu);
	if (r)
		return r;
	if (mv_vcpu_take_request(vcpu, MV_REQ_TLB_FLUSH))
		mv_ops->flush_tlb(vcpu);
	mv_event_inject_irq(vcpu);
	return mv_ops->vcpu_run(vcpu);
}

/* Counts an exit to userspace by its reason, as KVM counts them. */
static void mv_vcpu_count_exit(struct mv_vcpu *vcpu)
{
	struct mv_vcpu_stats *st = &vcpu->stats;

	switch (vcpu->run->exit_reason) {
	case KVM_EXIT_IO:
		WRITE_ONCE(st->io_exits, st->io_exits + 1);
		break;
	case KVM_EXIT_MMIO:
		WRITE_ONCE(st->mmio_exits, st->mmio_exits + 1);
		break;
	case KVM_EXIT_HLT:
		WRITE_ONCE(st->halt_exits, st->halt_exits + 1);
		break;
	}
}

static int mv_vcpu_run(struct mv_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	int r;

	vcpu->has_run = true;
	mv_vcpu_load(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->fpu, true);
	/*
	 * As in KVM: the TPR userspace gives, what it completed, then
	 * immediate_exit
	 */
	r = mv_event_run_in(vcpu);
	if (r)
		goto out;
	r = mv_exit_complete(vcpu);
	if (r <= 0)
		goto out;
	if (mv_run_immediate_exit(run)) {
		r = -EINTR;
		goto out;
	}
	for (;;) {
		if (signal_pending(current)) {
			run->exit_reason = KVM_EXIT_INTR;
			r = -EINTR;
			break;
		}
		r = mv_vcpu_enter_guest(vcpu);
		if (r <= 0)
			break;
		if (mv_event_irq_window_open(vcpu)) {
			r = 0;
			break;
		}
		cond_resched();
	}
out:
	if (!r)
		mv_vcpu_count_exit(vcpu);
	mv_event_run_out(vcpu);
	fpu_swap_kvm_fpstate(&vcpu->fpu, false);
	mv_vcpu_put(vcpu);
	return r;
}

/* The vCPU fd's statistics: KVM's names first, then minivisor's. */
static const struct mv_stat mv_vcpu_stats[] = {
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.exits, "exits"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.io_exits, "io_exits"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.mmio_exits, "mmio_exits"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.halt_exits, "halt_exits"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.shadow_faults,
			   "shadow_faults"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.shadow_pf_injected,
			   "shadow_pf_injected"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.tlb_flushes, "tlb_flushes"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.irq_injections,
			   "irq_injections"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.irq_window_exits,
			   "irq_window_exits"),
	MV_STAT_CUMULATIVE(struct mv_vcpu, stats.request_irq_exits,
			   "request_irq_exits"),
};

static const struct mv_stats_kind mv_vcpu_stats_kind = {
	.fd_name = "minivisor-vcpu-stats",
	.stats = mv_vcpu_stats,
	.nr = ARRAY_SIZE(mv_vcpu_stats),
};

static long mv_vcpu_ioctl_locked(struct mv_vcpu *vcpu, unsigned int cmd,
				 void __user *argp)
{
	struct kvm_interrupt irq;
	struct kvm_mp_state mp;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	switch (cmd) {
	case KVM_RUN:
		if (argp)
			return mv_fail(-EINVAL);
		return mv_vcpu_run(vcpu);
	case KVM_GET_REGS:
		memset(&regs, 0, sizeof(regs));
		mv_ops->get_regs(vcpu, &regs);
		if (copy_to_user(argp, &regs, sizeof(regs)))
			return mv_fail(-EFAULT);
		return 0;
	case KVM_SET_REGS:
		if (copy_from_user(&regs, argp, sizeof(regs)))
			return mv_fail(-EFAULT);
		mv_ops->set_regs(vcpu, &regs);
		return 0;
	case KVM_GET_SREGS:
		memset(&sregs, 0, sizeof(sregs));
		mv_ops->get_sregs(vcpu, &sregs);
		if (copy_to_user(argp, &sregs, sizeof(sregs)))
			return mv_fail(-EFAULT);
		return 0;
	case KVM_SET_SREGS:
		if (copy_from_user(&sregs, argp, sizeof(sregs)))
			return mv_fail(-EFAULT);
		return mv_ops->set_sregs(vcpu, &sregs);
	case KVM_INTERRUPT:
		if (copy_from_user(&irq, argp, sizeof(irq)))
			return mv_fail(-EFAULT);
		return mv_event_kvm_interrupt(vcpu, irq.irq);
	case KVM_GET_MP_STATE:
		mp.mp_state = mv_event_get_mp_state(vcpu);
		if (copy_to_user(argp, &mp, sizeof(mp)))
			return mv_fail(-EFAULT);
		return 0;
	case KVM_SET_MP_STATE:
		if (copy_from_user(&mp, argp, sizeof(mp)))
			return mv_fail(-EFAULT);
		return mv_event_set_mp_state(vcpu, mp.mp_state);
	case KVM_GET_MSRS:
		return mv_msr_ioctl(vcpu, argp, false);
	case KVM_SET_MSRS:
		return mv_msr_ioctl(vcpu, argp, true);
	case KVM_SET_CPUID2:
		return mv_cpuid_set(vcpu, argp);
	case KVM_GET_CPUID2:
		return mv_cpuid_get(vcpu, argp);
	case KVM_GET_STATS_FD:
		return mv_stats_fd(&mv_vcpu_stats_kind, vcpu, vcpu->vm,
				  vcpu->stats_id);
	case KVM_GET_FPU:
	case KVM_SET_FPU:
	case KVM_GET_XSAVE:
	case KVM_SET_XSAVE:
	case KVM_GET_XSAVE2:
	case KVM_GET_XCRS:
	case KVM_SET_XCRS:
		return mv_fpu_ioctl(vcpu, cmd, argp);
	default:
		/* what KVM's x86 vCPU ioctl answers for one it does not know */
		return mv_fail(-EINVAL);
	}
}

static long mv_vcpu_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct mv_vcpu *vcpu = file->private_data;
	long r;

	/* Like KVM, a vCPU belongs to the process that made its VM. */
	if (vcpu->vm->mm != current->mm)
		return mv_fail(-EIO);
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	r = mv_vcpu_ioctl_locked(vcpu, cmd, (void __user *)arg);
	mutex_unlock(&vcpu->mutex);
	return r;
}

static vm_fault_t mv_vcpu_fault(struct vm_fault *vmf)
{
	struct mv_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = vcpu->run_page;
	else if (vmf->pgoff == MV_PIO_PAGE_OFFSET)
		page = vcpu->pio_page;
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct mv_vcpu_vm_ops = {
	.fault = mv_vcpu_fault,
};

static int mv_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	vma->vm_ops = &mv_vcpu_vm_ops;
	return 0;
}

static int mv_vcpu_release(struct inode *inode, struct file *file)
{
	struct mv_vcpu *vcpu = file->private_data;

	mv_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations mv_vcpu_fops = {
	.owner = THIS_MODULE,
	.release = mv_vcpu_release,
	.unlocked_ioctl = mv_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = mv_vcpu_mmap,
	.llseek = noop_llseek,
};

/**
 * mv_vcpu_free() - free a vCPU; its fd is closed and its VM is going
 * @vcpu: the vCPU
 */
void mv_vcpu_free(struct mv_vcpu *vcpu)
{
	mv_ops->vcpu_free(vcpu);
	mv_mmu_vcpu_free(vcpu);
	mv_cpuid_free(&vcpu->cpuid);
	mv_fpu_free(vcpu);
	kfree(vcpu->emul);
	__free_page(vcpu->pio_page);
	__free_page(vcpu->run_page);
	mutex_destroy(&vcpu->mutex);
	kfree(vcpu);
}

/**
 * mv_vcpu_create() - KVM_CREATE_VCPU
 * @vm: the VM
 * @id: the vCPU id (the APIC id), below MV_MAX_VCPU_IDS
 *
 * Caller holds @vm->lock.  The vCPU is complete and published in @vm's
 * array before its fd exists: no thread can reach it (KVM_RUN on a guessed
 * fd number) while kicks and flushes of the whole VM would still miss it.
 * The fd is installed last, when nothing can fail any more.
 *
 * Return: the vCPU fd, -EINVAL for a bad @id or too many vCPUs, -EEXIST for
 * an id in use, or another negative errno.
 */
int mv_vcpu_create(struct mv_vm *vm, unsigned long id)
{
	struct mv_vcpu *vcpu;
	struct file *file;
	unsigned int i;
	int r, fd;

	lockdep_assert_held(&vm->lock);
	if (id >= MV_MAX_VCPU_IDS || vm->nr_vcpus >= MV_MAX_VCPUS)
		return mv_fail(-EINVAL);
	for (i = 0; i < vm->nr_vcpus; i++)
		if (mv_vm_vcpu(vm, i)->id == id)
			return mv_fail(-EEXIST);

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->cpu = -1;
	snprintf(vcpu->stats_id, sizeof(vcpu->stats_id), "kvm-%d/vcpu-%lu",
		 task_pid_nr(current), id);
	mutex_init(&vcpu->mutex);
	preempt_notifier_init(&vcpu->pn, &mv_preempt_ops);
	mv_cr_update_features(vcpu);

	r = -ENOMEM;
	vcpu->run_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vcpu->run_page)
		goto free_vcpu;
	vcpu->run = page_address(vcpu->run_page);
	vcpu->pio_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vcpu->pio_page)
		goto free_run;
	vcpu->emul = kzalloc(sizeof(*vcpu->emul), GFP_KERNEL_ACCOUNT);
	if (!vcpu->emul)
		goto free_pio;
	if (!mv_fpu_create(vcpu))
		goto free_emul;

	r = mv_mmu_vcpu_init(vcpu);
	if (r)
		goto free_fpu;
	r = mv_ops->vcpu_create(vcpu);
	if (r)
		goto free_mmu;

	/* the slot's memory now, so that publishing cannot fail later */
	r = xa_reserve(&vm->vcpus, vm->nr_vcpus, GFP_KERNEL_ACCOUNT);
	if (r)
		goto free_backend;
	fd = get_unused_fd_flags(O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto release_slot;
	}
	file = anon_inode_getfile("minivisor-vcpu", &mv_vcpu_fops, vcpu,
				  O_RDWR);
	if (IS_ERR(file)) {
		r = PTR_ERR(file);
		goto put_fd;
	}

	/* The vCPU fd keeps the VM; the VM frees its vCPUs. */
	mv_vm_get(vm);
	xa_store(&vm->vcpus, vm->nr_vcpus, vcpu, 0);
	/* the vCPU is complete before anyone can find it */
	smp_store_release(&vm->nr_vcpus, vm->nr_vcpus + 1);
	/* only now can another thread reach it through the fd */
	fd_install(fd, file);
	return fd;

put_fd:
	put_unused_fd(fd);
release_slot:
	xa_release(&vm->vcpus, vm->nr_vcpus);
free_backend:
	mv_ops->vcpu_free(vcpu);
free_mmu:
	mv_mmu_vcpu_destroy(vcpu);
free_fpu:
	mv_fpu_free(vcpu);
free_emul:
	kfree(vcpu->emul);
free_pio:
	__free_page(vcpu->pio_page);
free_run:
	__free_page(vcpu->run_page);
free_vcpu:
	mutex_destroy(&vcpu->mutex);
	kfree(vcpu);
	return r;
}

/**
 * mv_vcpu_init() - module init: turn preempt notifiers on, read the
 * host's XSAVE setup
 */
void mv_vcpu_init(void)
{
	mv_fpu_init();
	preempt_notifier_inc();
}

/**
 * mv_vcpu_exit() - module exit
 */
void mv_vcpu_exit(void)
{
	preempt_notifier_dec();
}
