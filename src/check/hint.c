#include "check/hint.h"

#include <string.h>

const char *hint_comp_name(check_comp c)
{
    switch (c) {
    case COMP_OLLAMA: return "ollama";
    case COMP_GATEWAY: return "gateway";
    case COMP_GPU: return "gpu";
    case COMP_PROMETHEUS: return "prometheus";
    }
    return "?";
}

const char *hint_mode_name(check_mode m) { return m == MODE_HOST ? "host" : "docker"; }

bool hint_same(const check_hint *a, const check_hint *b)
{
    return !strcmp(a->cause, b->cause) && !strcmp(a->fix, b->fix);
}

/* How each component is started, for "is it running?" advice. Host mode is
 * `make run` (logs in .run/) or the systemd units of deploy/systemd; Docker
 * mode is the guide's docker compose file with its container names. */
static const char *start_fix(check_mode m, check_comp c)
{
    bool host = m == MODE_HOST;
    switch (c) {
    case COMP_OLLAMA:
        return host ? "start it with `ollama serve` (`make run` starts the simulator, `tollgate sim`, in its place "
                      "when no Ollama answers); it listens on port 11434 unless OLLAMA_HOST says otherwise; point "
                      "check at it with --ollama URL"
                    : "start it on the host with `ollama serve` (or `tollgate sim` for a demo without a GPU); it "
                      "listens on port 11434 unless OLLAMA_HOST says otherwise; point check at it with --ollama URL";
    case COMP_GATEWAY:
        return host ? "start the stack with `make run` (log: .run/serve.log), or an installed gateway with "
                      "`systemctl start tollgate-serve` (`systemctl status tollgate-serve`, `journalctl -u "
                      "tollgate-serve`); point check at it with --gateway URL"
                    : "start it with `docker compose --profile ollama up -d litellm`; check `docker ps` and `docker "
                      "logs litellm-proxy`; point check at it with --gateway URL";
    case COMP_GPU:
        return host ? "start the stack with `make run` (log: .run/gpu.log), or an installed exporter with `systemctl "
                      "start tollgate-gpu` (`journalctl -u tollgate-gpu`); point check at it with --gpu URL, or use "
                      "--skip-gpu on a machine without an NVIDIA GPU"
                    : "start it with `docker compose --profile ollama up -d dcgm-exporter`; check `docker logs "
                      "dcgm-exporter`; point check at it with --gpu URL, or use --skip-gpu on a machine without an "
                      "NVIDIA GPU";
    case COMP_PROMETHEUS:
        return host ? "`make run` starts it (log: .run/prometheus.log); an installed one: `systemctl status "
                      "prometheus`; point check at it with --prometheus URL"
                    : "start it with `docker compose --profile full up -d prometheus`; check `docker logs "
                      "prometheus`; point check at it with --prometheus URL";
    }
    return "";
}

check_hint hint_for_probe(check_mode m, check_comp c, probe_err err, long status)
{
    bool host = m == MODE_HOST;
    switch (err) {
    case PROBE_OK:
        return (check_hint){"no failure", "nothing to do"};
    case PROBE_REFUSED:
        return (check_hint){"connection refused: the service is not running, or listens on another port",
                            start_fix(m, c)};
    case PROBE_DNS:
        return (check_hint){"no such host: the host name in the URL does not resolve",
                            host ? "use localhost (or 127.0.0.1) and the service's port; container names such as "
                                   "litellm-proxy resolve only inside the Docker network"
                                 : "from the host use localhost and the published port; between containers put "
                                   "every service on the same Docker network (`observability`); for Ollama on the "
                                   "host add `extra_hosts: host.docker.internal:host-gateway` to the service"};
    case PROBE_TIMEOUT:
        if (c == COMP_OLLAMA || c == COMP_GATEWAY)
            return (check_hint){"timeout: connected, but no answer in time; a model may be loading (first "
                                "request, or after OLLAMA_KEEP_ALIVE unloaded it) or a firewall drops packets",
                                "retry, or raise --timeout / --chat-timeout; `ollama ps` shows what is loaded"};
        return (check_hint){"timeout: no answer in time", "check the network and firewall, or raise --timeout"};
    case PROBE_HTTP:
        if (status == 401 || (status == 403 && c == COMP_GATEWAY))
            return (check_hint){"the gateway requires an API key (general_settings.master_key)",
                                "pass the key with --api-key KEY (or TOLLGATE_API_KEY)"};
        if (status == 403 && c == COMP_OLLAMA)
            return (check_hint){"Ollama refused the request's Host or Origin",
                                "call it by localhost/127.0.0.1, or allow the origin with OLLAMA_ORIGINS"};
        if (status == 404 && c == COMP_GATEWAY)
            return (check_hint){"the model is not in the gateway's model_list",
                                "use a model_name that /v1/models lists (--model NAME), or add it to "
                                "litellm_config.yaml"};
        if (status == 404 && c == COMP_OLLAMA)
            return (check_hint){"the model is not pulled", "run `ollama pull <model-name>`"};
        if (status >= 500 && c == COMP_GATEWAY)
            return (check_hint){"the gateway could not get an answer from Ollama (api_base unreachable, or the "
                                "model is not pulled)",
                                host ? "check that Ollama answers at the api_base of the config (`curl "
                                       "http://127.0.0.1:11434/`; `make run` uses $OLLAMA_HOST); `ollama list` for "
                                       "the models; the gateway's log says why: .run/serve.log, or `journalctl -u "
                                       "tollgate-serve`"
                                     : "check api_base in litellm_config.yaml; from the container: `docker exec -it "
                                       "litellm-proxy curl http://host.docker.internal:11434`; use the host's IP if "
                                       "host.docker.internal does not resolve; `ollama list` for the models"};
        return (check_hint){"the service answered with an unexpected HTTP status",
                            "check the URL points at the right service and read its log"};
    case PROBE_BODY:
        return (check_hint){"the service answered, but not what this component should answer",
                            "check the URL: the ports 11434 (Ollama), 4000 (gateway), 9400 (GPU exporter) and "
                            "9090 (Prometheus) are easy to swap"};
    case PROBE_ERROR:
        break;
    }
    return (check_hint){"the request failed", "read the error above and the service's log"};
}

check_hint hint_for_scrape_error(check_mode m, const char *job, const char *e)
{
    bool gateway = job && !strcmp(job, "litellm"), host = m == MODE_HOST;
    if (e && strstr(e, "no such host"))
        return (check_hint){"no such host: the target's service name does not resolve",
                            host ? "in host mode the targets are 127.0.0.1:4000 and 127.0.0.1:9400 "
                                   "(deploy/host/prometheus.yaml), not container names"
                                 : "put every container on the same Docker network (`observability`)"};
    if (e && strstr(e, "connection refused")) {
        const char *fix;
        if (host)
            fix = gateway ? "the gateway is not running or listens on another port than the target's "
                            "(127.0.0.1:4000 in deploy/host/prometheus.yaml): see .run/serve.log, or `systemctl "
                            "status tollgate-serve`"
                          : "the GPU exporter is not running or listens on another port than the target's "
                            "(127.0.0.1:9400 in deploy/host/prometheus.yaml): see .run/gpu.log, or `systemctl "
                            "status tollgate-gpu`";
        else
            fix = gateway ? "check `docker ps` and `docker logs litellm-proxy`; the target must be litellm-proxy:4000"
                          : "check `docker ps` and `docker logs dcgm-exporter`; the target must be "
                            "dcgm-exporter:9400";
        return (check_hint){"connection refused: wrong port, or the service is not running", fix};
    }
    if (e && (strstr(e, "context deadline exceeded") || strstr(e, "timeout")))
        return (check_hint){"context deadline exceeded: the scrape timed out",
                            "increase scrape_timeout for the job, or check the network"};
    if (e && (strstr(e, "401") || strstr(e, "403")))
        return (check_hint){"the exporter wants credentials for /metrics",
                            "set general_settings.require_auth_for_metrics_endpoint: false, or give the scrape "
                            "job an authorization section"};
    if (host)
        return (check_hint){"the target is down", gateway ? "see .run/serve.log (make run) or `journalctl -u "
                                                            "tollgate-serve`, and the target address"
                                                          : "see .run/gpu.log (make run) or `journalctl -u "
                                                            "tollgate-gpu`, and the target address"};
    return (check_hint){"the target is down", gateway ? "check `docker logs litellm-proxy` and the target address"
                                                      : "check `docker logs dcgm-exporter` and the target address"};
}

check_hint hint_for_missing_job(check_mode m, const char *job)
{
    (void)job;
    return (check_hint){"Prometheus has no scrape job by that name",
                        m == MODE_HOST ? "add the job to Prometheus' configuration (deploy/host/prometheus.yaml "
                                         "defines `litellm` and `dcgm`; `make run` uses it) and reload Prometheus"
                                       : "add the job to prometheus.yaml (docker-compose/prometheus.yaml defines "
                                         "`litellm` and `dcgm`) and reload Prometheus"};
}

check_hint hint_for_stale_scrape(void)
{
    return (check_hint){"the last scrape is older than twice the scrape interval",
                        "Prometheus may be overloaded or the target slow; check Status -> Targets and lower "
                        "scrape_interval if it was set too high"};
}

check_hint hint_for_empty_query(check_mode m, const char *query, int recorded)
{
    (void)query;
    if (recorded)
        return (check_hint){"no data: this name comes from Tollgate's recording rules, which are not loaded or "
                            "have not run yet",
                            m == MODE_HOST ? "load docker-compose/rules/*.yaml via rule_files (as "
                                             "deploy/host/prometheus.yaml does); the first result appears one "
                                             "evaluation_interval after the first scrape"
                                           : "load docker-compose/rules/*.yaml via rule_files in prometheus.yaml; "
                                             "the first result appears one evaluation_interval after the first "
                                             "scrape"};
    return (check_hint){"no data yet: no traffic, or no scrape since it was sent",
                        "send traffic (check sends some) and re-run after one scrape_interval; lower "
                        "scrape_interval if it was set too high"};
}

check_hint hint_for_static_counters(void)
{
    return (check_hint){"the request succeeded but the gateway's counters did not move",
                        "make sure litellm_settings.callbacks includes \"prometheus\" and that --gateway points "
                        "at the same instance that serves /metrics"};
}

check_hint hint_for_no_gpu(check_mode m)
{
    /* The same words as the `make run` banner and docs/gpu.md. */
    return (check_hint){"no NVIDIA GPU/driver found: GPU metrics are off (the exporter reports "
                        "tollgate_gpu_nvml_up 0)",
                        m == MODE_HOST ? "expected on macOS or CPU-only hosts: the rest works, GPU panels stay "
                                         "empty (docs/gpu.md, \"No GPU\"); on a GPU host install the NVIDIA driver "
                                         "until `nvidia-smi` works; --skip-gpu leaves the GPU out of the check"
                                       : "expected on macOS or CPU-only hosts: the rest works, GPU panels stay "
                                         "empty (docs/gpu.md, \"No GPU\"); on a GPU host install the NVIDIA "
                                         "Container Toolkit and give the container the GPU (`capabilities: [gpu]`); "
                                         "`nvidia-smi` must work inside it"};
}

check_hint hint_for_broken_stream(check_mode m)
{
    return (check_hint){"the stream ended early or is not server-sent events: Ollama failed mid-stream, or the "
                        "URL is not an OpenAI-compatible gateway",
                        m == MODE_HOST ? "read the gateway's log (.run/serve.log, or `journalctl -u "
                                         "tollgate-serve`) and Ollama's"
                                       : "read the gateway's log (`docker logs litellm-proxy`) and Ollama's"};
}
