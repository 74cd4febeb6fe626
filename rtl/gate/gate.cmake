# Gate-level models for switching activity (rtl/gate/, nibble_gate): each configuration of
# rtl/configs.txt named in NIBBLE_GATE_CONFIGS is synthesized at configure time by
# gate_netlist.py (Yosys, the area flow's script), and its netlist Verilated. Gate-level C++
# is large (about 1 kB per cell), so a normal build compiles only the smallest configuration
# at -O0 for CI's bit-exact check; rtl/gate/activity.py configures a build with all of them.
set(NIBBLE_GATE_CONFIGS "dpu_nv:int4" CACHE STRING
    "unit:name pairs of rtl/configs.txt to build gate-level models of (;-separated), or all")
set(NIBBLE_GATE_OPT "-O0" CACHE STRING "compiler optimization of the Verilated gate-level models")

set(NIBBLE_GATE_DIR ${CMAKE_CURRENT_BINARY_DIR}/gate)
file(MAKE_DIRECTORY ${NIBBLE_GATE_DIR})
add_library(nibble_gate STATIC ${CMAKE_CURRENT_SOURCE_DIR}/gate/activity.cpp)
target_include_directories(nibble_gate PUBLIC include PRIVATE src gate ${NIBBLE_GATE_DIR})
target_link_libraries(nibble_gate PUBLIC nibble_rtl nibble_models)
target_compile_options(nibble_gate PRIVATE -Wno-unused-parameter)

# The netlist depends on every unit source, the configuration list and both scripts.
file(GLOB gate_inputs ${CMAKE_CURRENT_SOURCE_DIR}/units/*)
list(APPEND gate_inputs ${CMAKE_CURRENT_SOURCE_DIR}/configs.txt ${CMAKE_CURRENT_SOURCE_DIR}/gate/gate_netlist.py
     ${CMAKE_CURRENT_SOURCE_DIR}/area/synth_area.py)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${gate_inputs})
set(gate_stamp "")
foreach(input ${gate_inputs})
  file(SHA256 ${input} digest)
  string(APPEND gate_stamp "${digest}\n")
endforeach()
set(gate_configs_inc "")
set(gate_headers_inc "")
set(gate_words_inc "")

function(nibble_gate_model unit name a_format b_format)
  if(NOT NIBBLE_GATE_CONFIGS STREQUAL "all" AND NOT "${unit}:${name}" IN_LIST NIBBLE_GATE_CONFIGS)
    return()
  endif()
  set(module gate_${unit}_${name})
  set(verilog ${NIBBLE_GATE_DIR}/${module}.v)
  set(cells ${NIBBLE_GATE_DIR}/${module}_cells.inc)
  set(words ${NIBBLE_GATE_DIR}/${module}_words.inc)
  set(stamp ${NIBBLE_GATE_DIR}/${module}.stamp)
  set(previous "")
  if(EXISTS ${stamp})
    file(READ ${stamp} previous)
  endif()
  if(NOT previous STREQUAL gate_stamp OR NOT EXISTS ${verilog})
    message(STATUS "Synthesizing the gate-level netlist of ${unit}:a=${a_format}:b=${b_format}")
    execute_process(COMMAND python3 ${PROJECT_SOURCE_DIR}/rtl/gate/gate_netlist.py
                            --config ${unit}:a=${a_format}:b=${b_format} --module ${module}
                            --verilog ${verilog} --cells ${cells} --words ${words}
                    RESULT_VARIABLE rc)
    if(rc)
      message(FATAL_ERROR "gate_netlist.py failed for ${unit}:${name}")
    endif()
    file(WRITE ${stamp} "${gate_stamp}")
  endif()
  verilate(nibble_gate
    SOURCES ${verilog}
    TOP_MODULE ${module}
    PREFIX V${module}
    VERILATOR_ARGS -Wno-WIDTH --x-assign fast --x-initial fast --output-split 20000
    OPT_FAST ${NIBBLE_GATE_OPT} OPT_SLOW -O0 OPT_GLOBAL ${NIBBLE_GATE_OPT})
  # The netlist keeps the configuration's latency, which its RTL model's class holds.
  set(gate_configs_inc "${gate_configs_inc}{\"${unit}\", \"${a_format}\", \"${b_format}\", V${unit}_${name}_${unit}::LATENCY, &gate_activity<V${module}>, &gate_cosim<V${module}>, {\n#include \"${module}_cells.inc\"\n}},\n" PARENT_SCOPE)
  set(gate_headers_inc "${gate_headers_inc}#include \"V${module}.h\"\n#include \"V${unit}_${name}_${unit}.h\"\n" PARENT_SCOPE)
  set(gate_words_inc "${gate_words_inc}template <>\nstd::vector<const std::uint32_t*> cell_words(V${module}& model) {\n  return {\n#include \"${module}_words.inc\"\n  };\n}\n" PARENT_SCOPE)
endfunction()
