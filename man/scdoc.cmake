# cmake -DSCDOC=... -DSRC=page.1.scd -DOUT=page.1 -P scdoc.cmake
# scdoc reads stdin and writes stdout; write to a temporary file first so
# that a failed run leaves no half page behind.
execute_process(COMMAND ${SCDOC} INPUT_FILE ${SRC} OUTPUT_FILE ${OUT}.tmp
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "scdoc failed on ${SRC}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
