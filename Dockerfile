# One image for both Tollgate services in docker-compose/: the gateway
# (`tollgate serve`, container litellm-proxy) and the GPU exporter
# (`tollgate gpu`, container dcgm-exporter). Debian 12 in both stages so the
# binary links the same libraries it was built against.
#   docker build -t tollgate .
#   docker run --rm -p 4000:4000 tollgate serve --port 4000
FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config \
      libevent-dev libcurl4-openssl-dev libyaml-dev libjansson-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src ./src
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DTOLLGATE_TESTS=OFF \
 && cmake --build build -j"$(nproc)" \
 && strip build/tollgate \
 && build/tollgate --version

FROM debian:12-slim
# Runtime libraries only. NVML is not here: the NVIDIA Container Toolkit
# mounts the host driver's libnvidia-ml.so.1 into the dcgm-exporter
# container, and `tollgate gpu` loads it with dlopen.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libevent-2.1-7 libevent-pthreads-2.1-7 \
      libcurl4 libyaml-0-2 libjansson4 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin tollgate
COPY --from=build /src/build/tollgate /usr/local/bin/tollgate
COPY docker-compose/litellm_config.yaml /app/config.yaml
USER tollgate
EXPOSE 4000 9400
ENTRYPOINT ["tollgate"]
CMD ["serve", "--config", "/app/config.yaml", "--port", "4000"]
