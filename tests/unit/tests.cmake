udax_unit_test(vectors)
udax_unit_test(emul)
udax_unit_test(emul-threads)
set_tests_properties(unit/emul-threads PROPERTIES LABELS "unit;threads")
udax_unit_test(badblocks)
udax_unit_test(badblocks-threads)
set_tests_properties(unit/badblocks-threads PROPERTIES LABELS "unit;threads")
udax_unit_test(mcsafe)
udax_unit_test(mcsafe-threads)
set_tests_properties(unit/mcsafe-threads PROPERTIES LABELS "unit;threads")
udax_unit_test(pmem_copy)
udax_unit_test(mock)
udax_unit_test(modes)
udax_unit_test(errsign)

# Bugs in lib/ shown by a test and not fixed yet: each bug-* case fails
# today (a plain run of its binary leaves it out).  When a fix lands, ctest
# reports the case as failing: drop its line here and rename the case
# (bug-x -> x) so that it runs with the rest.
function(udax_known_bug name binary)
  add_test(NAME unit/bug-${name} COMMAND ${binary} bug-${name} ${ARGN})
  set_tests_properties(unit/bug-${name} PROPERTIES WILL_FAIL TRUE TIMEOUT 120
    LABELS "unit;known-bug")
endfunction()
udax_known_bug(open-double-close test-mock)
udax_known_bug(recovery-clears-consumed test-mock)
udax_known_bug(zero-clears-consumed test-mock)
udax_known_bug(efault-without-segv test-mock)
udax_known_bug(recovery-write-latent test-modes mock)
udax_known_bug(copy-from-iter-gather test-errsign)
udax_known_bug(iter-init-null test-errsign)
