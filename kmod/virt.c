// SPDX-License-Identifier: GPL-2.0
/*
 * Virtualization on and off, for all CPUs at once.
 *
 * While at least one VM exists, VMX or SVM is enabled on every online CPU,
 * and it is disabled on all of them otherwise, so that minivisor and another
 * hypervisor (KVM) can take turns on one host.  A CPU that comes online while
 * VMs exist is turned on by the CPU hotplug callback before it runs anything
 * else of ours; one that goes offline is turned off.
 *
 * Taking turns with KVM.  The kernel has one slot for the callback that
 * turns virtualization off on a crash (cpu_emergency_register_virt_callback()
 * WARNs when it is taken, and there is no way to ask), and KVM takes it when
 * it turns VMX/SVM on: when kvm_intel/kvm_amd loads (6.12's default), or at
 * its first VM.  minivisor takes it with its first VM and gives it back with
 * the last.  So that neither ever finds it taken, the two exclude each other
 * as wholes:
 *  - minivisor creates no VM while the kvm module (or kvm_intel, kvm_amd)
 *    is loaded, or built in: KVM_CREATE_VM fails with EBUSY;
 *  - while minivisor has a VM, loading kvm, kvm_intel or kvm_amd fails with
 *    EBUSY (a module notifier refuses them before their init runs).
 * A KVM module already loaded before minivisor is found by its exported
 * kvm_rebooting; those loaded after are seen by the notifier.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/minivisor.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/reboot.h>

#include "mv.h"
#include "virt.h"

const struct mv_vendor_ops *mv_ops;
struct mv_cpu_caps mv_caps;

/* Serializes the first mv_virt_get() and the last mv_virt_put(). */
static DEFINE_MUTEX(mv_virt_lock);
/* [mv_virt_lock] number of mv_virt_get() without their mv_virt_put() */
static unsigned int mv_virt_users;
/* [mv_virt_lock] the dynamic hotplug state, while mv_virt_users > 0 */
static int mv_cpuhp_state;
/* [this CPU, interrupts off] this CPU has virtualization enabled */
static DEFINE_PER_CPU(bool, mv_virt_on);

/* The modules of KVM that take the emergency callback's slot. */
static const char * const mv_kvm_modules[] = { "kvm", "kvm_intel", "kvm_amd" };
/* [mv_virt_lock] bit i: mv_kvm_modules[i] is coming or live (notifier) */
static unsigned long mv_kvm_present;

static int mv_virt_cpu_online(unsigned int cpu)
{
	unsigned long flags;
	int r = 0;

	local_irq_save(flags);
	if (!__this_cpu_read(mv_virt_on)) {
		r = mv_ops->cpu_enable();
		if (!r)
			__this_cpu_write(mv_virt_on, true);
	}
	local_irq_restore(flags);

	if (r == -EBUSY)
		pr_warn("minivisor: CPU %u: %s is already in use by another hypervisor (is kvm_%s loaded?)\n",
			cpu, mv_ops->name, mv_ops->backend == MV_BACKEND_VMX ? "intel" : "amd");
	else if (r)
		pr_err("minivisor: CPU %u: cannot enable %s: error %d\n",
		       cpu, mv_ops->name, r);
	return r;
}

static int mv_virt_cpu_offline(unsigned int cpu)
{
	unsigned long flags;

	local_irq_save(flags);
	if (__this_cpu_read(mv_virt_on)) {
		mv_ops->cpu_disable();
		__this_cpu_write(mv_virt_on, false);
	}
	local_irq_restore(flags);
	return 0;
}

/* Crash and emergency reboot: NMI context on every CPU. */
static void mv_virt_emergency(void)
{
	if (__this_cpu_read(mv_virt_on)) {
		mv_ops->emergency_disable();
		__this_cpu_write(mv_virt_on, false);
	}
}

static int mv_kvm_module_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mv_kvm_modules); i++)
		if (!strcmp(name, mv_kvm_modules[i]))
			return i;
	return -1;
}

/* Is KVM here (loaded, coming, or built in)?  Caller holds mv_virt_lock. */
static bool mv_kvm_here(void)
{
	void *p;

	lockdep_assert_held(&mv_virt_lock);
	if (mv_kvm_present)
		return true;
	/* loaded before our notifier was there; a reference, dropped again */
	p = __symbol_get("kvm_rebooting");
	if (p)
		__symbol_put("kvm_rebooting");
	return !!p;
}

/*
 * A KVM module about to run its init: refused while minivisor has VMs (it
 * would take the emergency callback's slot, or find VMX/SVM on).
 */
static int mv_virt_module_notify(struct notifier_block *nb,
				 unsigned long state, void *data)
{
	struct module *mod = data;
	int i = mv_kvm_module_index(mod->name);
	int r = 0;

	if (i < 0)
		return NOTIFY_DONE;
	mutex_lock(&mv_virt_lock);
	if (state == MODULE_STATE_COMING) {
		if (mv_virt_users) {
			pr_info("minivisor: %s cannot load while minivisor has VMs\n",
				mod->name);
			r = -EBUSY;
		} else {
			__set_bit(i, &mv_kvm_present);
		}
	} else if (state == MODULE_STATE_GOING) {
		__clear_bit(i, &mv_kvm_present);
	}
	mutex_unlock(&mv_virt_lock);
	return notifier_from_errno(r);
}

static struct notifier_block mv_virt_module_nb = {
	.notifier_call = mv_virt_module_notify,
};

/**
 * mv_virt_get() - make sure virtualization is on, on every online CPU
 *
 * Called when a VM is created.  The first caller enables VMX/SVM on all
 * online CPUs; if any CPU refuses, those already turned on are turned off
 * again and nothing is left enabled.  Refused while KVM is loaded (see the
 * top of this file).  May sleep; takes the CPU hotplug lock.
 *
 * Return: 0, -EBUSY when KVM is loaded or another hypervisor owns a CPU,
 * or another negative errno from the backend.
 */
int mv_virt_get(void)
{
	int r = 0;

	mutex_lock(&mv_virt_lock);
	if (mv_virt_users)
		goto got;
	if (mv_kvm_here()) {
		pr_info_ratelimited("minivisor: KVM is loaded: no VMs until it is unloaded\n");
		r = -EBUSY;
		goto out;
	}

	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "minivisor:online",
			      mv_virt_cpu_online, mv_virt_cpu_offline);
	if (r < 0)
		goto out;
	mv_cpuhp_state = r;
	r = 0;
	/* no KVM, and none can come while we have users: the slot is free */
	cpu_emergency_register_virt_callback(mv_virt_emergency);
got:
	mv_virt_users++;
out:
	mutex_unlock(&mv_virt_lock);
	return r;
}

/**
 * mv_virt_put() - drop what mv_virt_get() took
 *
 * The last caller turns virtualization off on every CPU.  May sleep.
 */
void mv_virt_put(void)
{
	mutex_lock(&mv_virt_lock);
	if (!WARN_ON_ONCE(!mv_virt_users) && !--mv_virt_users) {
		cpu_emergency_unregister_virt_callback(mv_virt_emergency);
		cpuhp_remove_state(mv_cpuhp_state);
	}
	mutex_unlock(&mv_virt_lock);
}

static void mv_cpufeat_read(struct mv_cpu_facts *f)
{
	struct mv_cpuid_leaf *l;

	memset(f, 0, sizeof(*f));
	l = &f->std0;
	cpuid_count(0, 0, &l->eax, &l->ebx, &l->ecx, &l->edx);
	if (f->std0.eax >= 1) {
		l = &f->std1;
		cpuid_count(1, 0, &l->eax, &l->ebx, &l->ecx, &l->edx);
	}
	l = &f->ext0;
	cpuid_count(0x80000000, 0, &l->eax, &l->ebx, &l->ecx, &l->edx);
	if (f->ext0.eax >= 0x80000001 && f->ext0.eax < 0x8000ffff) {
		l = &f->ext1;
		cpuid_count(0x80000001, 0, &l->eax, &l->ebx, &l->ecx, &l->edx);
	}
	if (f->ext0.eax >= 0x8000000a && f->ext0.eax < 0x8000ffff) {
		l = &f->svm;
		cpuid_count(0x8000000a, 0, &l->eax, &l->ebx, &l->ecx, &l->edx);
	}

	f->has_feature_control =
		!rdmsrl_safe(MSR_IA32_FEAT_CTL, &f->feature_control);
	f->has_vm_cr = !rdmsrl_safe(MSR_VM_CR, &f->vm_cr);
	f->has_vmx_msrs = !rdmsrl_safe(MSR_IA32_VMX_BASIC, &f->vmx_basic) &&
		!rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS, &f->vmx_procbased);
	if (f->has_vmx_msrs && rdmsrl_safe(MSR_IA32_VMX_PROCBASED_CTLS2,
					   &f->vmx_procbased2))
		f->vmx_procbased2 = 0;
}

/*
 * debugfs minivisor/virt: the number of users, then one line a possible CPU
 * saying whether minivisor has virtualization enabled there.  For tests.
 */
static int mv_virt_show(struct seq_file *m, void *unused)
{
	int cpu;

	mutex_lock(&mv_virt_lock);
	seq_printf(m, "backend %s\nusers %u\n", mv_ops->name, mv_virt_users);
	seq_printf(m, "kvm %s\n", mv_kvm_here() ? "loaded" : "absent");
	for_each_possible_cpu(cpu)
		seq_printf(m, "cpu%d %s %s\n", cpu,
			   cpu_online(cpu) ? "online" : "offline",
			   per_cpu(mv_virt_on, cpu) ? "on" : "off");
	mutex_unlock(&mv_virt_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mv_virt);

/**
 * mv_virt_debugfs_init() - add the "virt" file to minivisor's debugfs folder
 * @dir: the folder
 */
void mv_virt_debugfs_init(struct dentry *dir)
{
	debugfs_create_file("virt", 0444, dir, NULL, &mv_virt_fops);
}

/**
 * mv_virt_init() - choose the backend for this machine
 *
 * Reads the boot CPU's CPUID and feature MSRs, picks the VMX or SVM ops
 * table and lets the backend allocate its per-CPU areas.  Virtualization
 * itself stays off until the first VM.
 *
 * Return: 0, or -ENODEV (with a message saying why) on a CPU minivisor
 * cannot use, or the backend's error.
 */
int mv_virt_init(void)
{
	struct mv_cpu_facts facts;
	int r;

	mv_cpufeat_read(&facts);
	r = mv_cpufeat_detect(&facts, &mv_caps);
	if (r) {
		pr_err("minivisor: no usable hardware virtualization: %s\n",
		       mv_caps.why);
		return r;
	}

	mv_ops = mv_caps.backend == MV_BACKEND_VMX ? &mv_vmx_ops : &mv_svm_ops;
	/* what the hardware offers and the backend can run */
	mv_caps.mmu_modes &= mv_ops->mmu_modes;
	r = mv_ops->hardware_setup(&mv_caps);
	if (r) {
		pr_err("minivisor: %s setup failed: error %d\n", mv_ops->name, r);
		return r;
	}
	r = register_module_notifier(&mv_virt_module_nb);
	if (r) {
		mv_ops->hardware_unsetup();
		return r;
	}
	pr_info("minivisor: using %s, MMU modes:%s%s%s\n", mv_ops->name,
		mv_caps.mmu_modes & MV_MMU_SHADOW ? " shadow" : "",
		mv_caps.mmu_modes & MV_MMU_TDP ? " tdp" : "",
		mv_caps.mmu_modes ? "" : " none yet");
	return 0;
}

/**
 * mv_virt_exit() - release the backend; no VM may exist any more
 */
void mv_virt_exit(void)
{
	unregister_module_notifier(&mv_virt_module_nb);
	mv_ops->hardware_unsetup();
}
