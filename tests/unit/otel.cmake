# Test-only program for tests/e2e/otel-encode.test.mjs: spans through the
# real exporter (build/tests/unit/otel_emit).
add_executable(otel_emit ${CMAKE_CURRENT_SOURCE_DIR}/otel_emit.c)
target_link_libraries(otel_emit PRIVATE tollgate_core)
