#include "gpu/expo.h"

#include <stdio.h>
#include <string.h>

#include "gpu/xid.h"

/* Label values are printed raw by dcgm-exporter; escaping the three
 * characters the text format reserves keeps odd model names from breaking
 * a scrape and changes nothing for normal values. */
static void put_label_value(buf *b, const char *s)
{
    buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '\\')
            buf_puts(b, "\\\\");
        else if (*p == '"')
            buf_puts(b, "\\\"");
        else if (*p == '\n')
            buf_puts(b, "\\n");
        else
            buf_putc(b, *p);
    }
    buf_putc(b, '"');
}

static void put_label(buf *b, const char *name, const char *value, bool comma)
{
    if (comma)
        buf_putc(b, ',');
    buf_puts(b, name);
    buf_putc(b, '=');
    put_label_value(b, value);
}

static void put_value(buf *b, gpu_kind kind, const gpu_val *v)
{
    if (kind == GPU_KIND_DOUBLE)
        buf_printf(b, "%f", v->d);
    else
        buf_printf(b, "%lld", v->i);
}

/* gpu, UUID, pci_bus_id, device, modelName (+ MIG labels) [, Hostname] */
static void put_identity(buf *b, const gpu_dev *d, const gpu_row *row, const char *hostname)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%u", d->index);
    put_label(b, "gpu", tmp, false);
    put_label(b, "UUID", d->uuid, true);
    put_label(b, "pci_bus_id", d->bus_id, true);
    snprintf(tmp, sizeof tmp, "nvidia%u", d->index);
    put_label(b, "device", tmp, true);
    put_label(b, "modelName", d->name, true);
    if (row && row->gi_id >= 0) {
        put_label(b, "GPU_I_PROFILE", row->profile, true);
        snprintf(tmp, sizeof tmp, "%d", row->gi_id);
        put_label(b, "GPU_I_ID", tmp, true);
    }
    if (hostname)
        put_label(b, "Hostname", hostname, true);
}

static void put_field_labels(buf *b, const gpu_counters *cs, const gpu_snapshot *s, const gpu_row *row)
{
    for (size_t i = 0; i < cs->nlabels; i++) {
        gpu_field f = cs->labels[i].field;
        const gpu_field_info *fi = gpu_field_get(f);
        char tmp[64];
        const char *v = NULL;
        if (fi->src == GPU_SRC_DRIVER)
            v = s->driver_version;
        else if (fi->src == GPU_SRC_NVML)
            v = s->nvml_version;
        else if (row->v[f].ok) {
            if (fi->kind == GPU_KIND_DOUBLE)
                snprintf(tmp, sizeof tmp, "%f", row->v[f].d);
            else
                snprintf(tmp, sizeof tmp, "%lld", row->v[f].i);
            v = tmp;
        }
        if (v && *v)
            put_label(b, fi->name, v, true);
    }
}

static void write_family(buf *out, const gpu_counters *cs, const gpu_counter *c, const gpu_snapshot *s,
                         const char *hostname)
{
    const gpu_field_info *fi = gpu_field_get(c->field);
    bool any = false;
    for (size_t r = 0; r < s->nrows && !any; r++)
        any = s->rows[r].v[c->field].ok;
    if (!any)
        return;
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fi->name, c->help, fi->name, c->type);
    for (size_t r = 0; r < s->nrows; r++) {
        const gpu_row *row = &s->rows[r];
        const gpu_val *v = &row->v[c->field];
        if (!v->ok)
            continue;
        buf_puts(out, fi->name);
        buf_putc(out, '{');
        put_identity(out, &s->devs[row->dev], row, hostname);
        put_field_labels(out, cs, s, row);
        if (c->field == GF_XID_ERRORS) {
            char code[32];
            snprintf(code, sizeof code, "%lld", v->i);
            put_label(out, "err_code", code, true);
            put_label(out, "err_msg", gpu_xid_message(v->i), true);
        }
        buf_puts(out, "} ");
        put_value(out, fi->kind, v);
        buf_putc(out, '\n');
    }
}

void gpu_expo_write(buf *out, const gpu_counters *cs, const gpu_snapshot *s, const char *hostname)
{
    for (size_t i = 0; i < cs->nmetrics; i++)
        write_family(out, cs, &cs->metrics[i], s, hostname);
    if (s->nprocs) {
        buf_puts(out, "# HELP tollgate_gpu_process_memory_used_bytes GPU memory used by a process (bytes), from "
                      "NVML's running compute and graphics processes.\n"
                      "# TYPE tollgate_gpu_process_memory_used_bytes gauge\n");
        for (size_t i = 0; i < s->nprocs; i++) {
            const gpu_proc *p = &s->procs[i];
            char pid[16];
            snprintf(pid, sizeof pid, "%u", p->pid);
            buf_puts(out, "tollgate_gpu_process_memory_used_bytes{");
            put_identity(out, &s->devs[p->dev], NULL, hostname);
            put_label(out, "pid", pid, true);
            put_label(out, "process_name", p->comm, true);
            buf_printf(out, "} %llu\n", p->bytes);
        }
    }
    if (s->nerrs) {
        buf_puts(out, "# HELP tollgate_gpu_nvml_errors_total NVML calls that failed for a GPU, by NVML error "
                      "(NOT_SUPPORTED is not an error).\n"
                      "# TYPE tollgate_gpu_nvml_errors_total counter\n");
        for (size_t i = 0; i < s->nerrs; i++) {
            const gpu_err *e = &s->errs[i];
            buf_puts(out, "tollgate_gpu_nvml_errors_total{");
            put_identity(out, &s->devs[e->dev], NULL, hostname);
            put_label(out, "error", e->error, true);
            buf_printf(out, "} %llu\n", e->count);
        }
    }
}
