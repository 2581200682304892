-- wrk script: non-streaming POST /api/generate with a small body.
wrk.method = "POST"
wrk.path = "/api/generate"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"llama3.2:3b","prompt":"Why is the sky blue?","stream":false,"options":{"num_predict":8}}'
