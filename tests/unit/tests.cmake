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
# The emulated device's reliability (tests/unit/emul-util.h): one test per
# defect of the reliability issue, and the random model test.
udax_unit_test(emul-fork)
