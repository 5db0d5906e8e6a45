// SPDX-License-Identifier: GPL-2.0
/*
 * Virtualization on and off, for all CPUs at once.
 *
 * While at least one VM exists, VMX or SVM is enabled on every online CPU,
 * and it is disabled on all of them otherwise, so that minivisor and another hypervisor (KVM)
 * can take turns on one host.  A CPU that comes online while VMs exist is
 * turned on by the CPU hotplug callback before it runs anything else of ours;
 * one that goes offline is turned off.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/minivisor.h>
#include <linux/mutex.h>
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

/**
 * mv_virt_get() - make sure virtualization is on, on every online CPU
 *
 * Called when a VM is created.  The first caller enables VMX/SVM on all
 * online CPUs; if any CPU refuses, those already turned on are turned off
 * again and nothing is left enabled.  May sleep; takes the CPU hotplug lock.
 *
 * Return: 0, -EBUSY when another hypervisor owns a CPU, or another negative
 * errno from the backend.
 */
int mv_virt_get(void)
{
	int r = 0;

	mutex_lock(&mv_virt_lock);
	if (mv_virt_users++)
		goto out;

	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "minivisor:online",
			      mv_virt_cpu_online, mv_virt_cpu_offline);
	if (r < 0) {
		mv_virt_users = 0;
		goto out;
	}
	mv_cpuhp_state = r;
	r = 0;
	/* Registered only once our CPUs are on: no other owner can be there. */
	cpu_emergency_register_virt_callback(mv_virt_emergency);
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
	mv_ops->hardware_unsetup();
}
