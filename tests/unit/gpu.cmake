# The scripted NVML library the gpu tests and bench/gpu_scrape.sh load with
# `tollgate gpu --nvml-lib $TOLLGATE_BUILD/libfake_nvml.so`.
add_library(fake_nvml SHARED ${CMAKE_CURRENT_LIST_DIR}/fake_nvml.c)
set_target_properties(fake_nvml PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR} C_VISIBILITY_PRESET default)
target_compile_options(fake_nvml PRIVATE -Wno-missing-prototypes)
foreach(t test_gpu_exporter test_gpu_expo test_gpu_counters)
  if(TARGET ${t})
    add_dependencies(${t} fake_nvml tollgate)
  endif()
endforeach()
if(TARGET test_gpu_exporter)
  target_sources(test_gpu_exporter PRIVATE ${CMAKE_CURRENT_LIST_DIR}/gpu_proc.c)
endif()
