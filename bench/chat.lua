-- wrk script: POST a small OpenAI chat completion request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench","messages":[{"role":"user","content":"Say hello in one sentence."}],"max_tokens":20}'
