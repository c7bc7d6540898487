"""Programs ``make fuzz`` found, replayed on every run: each must end with every difference excused.

Each one once failed the oracle; its difference was then fixed, or kept on purpose
with the entry of ``known.py`` named in its comment. Replaying them keeps a fix, or
an entry, from being lost.
"""
from __future__ import annotations

from tests.differential.machine import UDT, Oracle  # noqa: F401 - UDT: the programs build user-type values


def _toggle_batch(state: Oracle, times: int) -> None:
    """``times`` batch steps in a row: each opens a batch, or closes (runs) the one open."""
    for _ in range(times):
        state.batch(how="exit")


def test_an_unchanged_value_is_rewritten_for_its_ttl(oracle_world):
    # unchanged-value-rewritten-for-its-ttl: the peer sends nothing and the TTL asked for is lost.
    state = Oracle()
    state.create_cat(keys={"p": 0, "n": 0}, opts={}, values={"lives": 0})
    state.update_kw_cat(nth=0, opts={"ttl": 3600}, values={"lives": 0})
    state.teardown()


def test_a_static_only_write_refused_where_the_peer_condition_fails(oracle_world):
    # static-only-with-a-regular-value
    state = Oracle()
    _toggle_batch(state, 2)
    state.update_new_row(keys={
        'p': 0,  # or any other generated value
        'ck': None,  # or any other generated value
    }, opts={'batch': True, 'if_exists': True}, values={
        's': 0,  # or any other generated value
        'v': '',  # or any other generated value
    })
    state.teardown()


def test_iff_none_sent_and_not_applied_keeps_the_values_assigned(oracle_world):
    # iff-none
    state = Oracle()
    _toggle_batch(state, 32)
    state.get_animal(keys={'p': 0, 'n': 0})
    state.update_kw_holder(nth=0, opts={}, values={})
    state.create_row(keys={'p': 0, 'ck': None}, opts={'batch': True}, values={})
    state.update_new_dog(keys={'p': 0, 'n': 0}, opts={}, values={'bark': None, 'name': ''})
    state.save_new_row(keys={'p': 0, 'ck': None}, opts={}, values={})
    _toggle_batch(state, 2)
    state.update_kw_dog(nth=0, opts={'batch': True, 'iff': {'name': None}}, values={'name': None})
    state.teardown()


def test_a_static_only_create_refused_where_the_peer_condition_fails(oracle_world):
    # static-only-with-a-regular-value
    state = Oracle()
    state.qs_delete_animal(keys={'p': 0}, opts={})
    state.create_row(keys={'p': 1, 'ck': None}, opts={}, values={'s': 0})
    state.qs_delete_animal(keys={'p': 0}, opts={})
    state.qs_delete_animal(keys={'p': 0}, opts={})
    state.create_row(keys={'p': 1, 'ck': None}, opts={'if_not_exists': True}, values={'s': 0, 'v': ''})
    state.teardown()


def test_a_new_conditional_save_in_a_batch_is_checked(oracle_world):
    # new-conditional-in-a-batch
    state = Oracle()
    _toggle_batch(state, 13)
    state.save_new_row(keys={
        'p': 0,  # or any other generated value
        'ck': 0,  # or any other generated value
    }, opts={'batch': True, 'if_exists': True}, values={})
    state.batch(how='exit')
    state.teardown()


def test_a_counter_written_after_its_delete_adds_its_value(oracle_world):
    # counter-after-delete
    state = Oracle()
    state.save_new_tally(keys={
        'k': 0,  # or any other generated value
    }, opts={}, values={
        'c1': 1,  # or any other generated value
    })
    state.delete_tally(nth=0, opts={})
    state.assign_update_tally(nth=0, opts={}, values={})
    state.teardown()


def test_update_of_none_writes_null_dated_as_asked(oracle_world):
    # update-new-none-writes-null
    state = Oracle()
    state.update_new_holder(keys={'k': 2}, opts={'timestamp': 4_102_444_800_000_000}, values={'info': None})
    state.update_new_holder(keys={'k': 2}, opts={}, values={
        'info': UDT(name=None, tags=None),  # or any other generated value
    })
    state.teardown()


def test_iff_none_with_a_required_value_refused(oracle_world):
    # iff-none
    state = Oracle()
    state.update_new_nest(keys={
        'k': 0,  # or any other generated value
    }, opts={}, values={
        'r': 'a',  # or any other generated value
    })
    state.update_kw_nest(nth=0, opts={
        'batch': True,
        'iff': {'r': None},  # or any other generated value
    }, values={
        'r': None,  # or any other generated value
    })
    state.teardown()


def test_a_regular_value_assigned_without_clustering_key_is_refused(oracle_world):
    # static-only-with-a-regular-value
    state = Oracle()
    state.get_holder(keys={'k': 0})
    state.update_new_row(keys={'p': 0, 'ck': None}, opts={}, values={'s': None})
    state.get_holder(keys={'k': 0})
    state.get_holder(keys={'k': 0})
    state.get_holder(keys={'k': 0})
    state.get_holder(keys={'k': 0})
    state.get_holder(keys={'k': 0})
    state.assign_update_row(nth=0, opts={}, values={'v': ''})
    state.teardown()


def test_an_instance_written_twice_in_one_batch_is_written_whole(oracle_world):
    # instance-rewritten-in-a-batch
    state = Oracle()
    _toggle_batch(state, 7)
    state.get_animal(keys={
        'p': 0,  # or any other generated value
        'n': 0,  # or any other generated value
    })
    state.create_dog(keys={
        'p': 0,  # or any other generated value
        'n': 0,  # or any other generated value
    }, opts={
        'batch': True,
        'timestamp': 1000,  # or any other generated value
    }, values={})
    state.create_row(keys={
        'p': 0,  # or any other generated value
        'ck': None,  # or any other generated value
    }, opts={}, values={})
    state.save_dog(nth=0, opts={'batch': True}, values={})
    state.batch(how='exit')
    state.teardown()


def test_an_instance_written_twice_in_one_batch_with_a_future_timestamp(oracle_world):
    # instance-rewritten-in-a-batch
    state = Oracle()
    _toggle_batch(state, 7)
    state.get_animal(keys={'p': 0, 'n': 1})
    state.create_dog(keys={'p': 2, 'n': 2}, opts={'batch': True, 'timestamp': 4_102_444_800_000_000}, values={})
    state.create_row(keys={'p': 1, 'ck': None}, opts={}, values={})
    state.save_dog(nth=0, opts={'batch': True}, values={})
    state.teardown()


def test_a_static_none_assigned_without_clustering_key_deletes_it(oracle_world):
    # static-none-without-clustering-key
    state = Oracle()
    state.create_row(keys={
        'p': 0,  # or any other generated value
        'ck': None,
    }, opts={}, values={
        's': 0,  # or any other generated value
    })
    state.assign_update_row(nth=0, opts={}, values={'s': None})
    state.teardown()


def test_a_static_none_of_a_new_instance_leaves_a_tombstone(oracle_world):
    # static-none-without-clustering-key
    state = Oracle()
    state.get_animal(keys={'p': 0, 'n': 0})
    state.update_new_row(keys={'p': 0, 'ck': None}, opts={}, values={'s': None})
    state.update_kw_row(nth=0, opts={'batch': True, 'timestamp': 1000}, values={'s': 0})
    state.teardown()


def test_a_conditional_static_update_names_its_row(oracle_world):
    # conditional-static-update-names-its-row
    state = Oracle()
    state.update_new_row(keys={'p': 0, 'ck': 0}, opts={'batch': True, 'iff': {'v': ''}}, values={'s': 0, 'mp': None})
    state.teardown()


def test_none_columns_in_the_one_conditional_statement(oracle_world):
    # none-in-the-conditional-statement
    state = Oracle()
    state.update_new_holder(keys={
        'k': 0,  # or any other generated value
    }, opts={}, values={
        'infos': [UDT(name=None, tags=None)],  # or any other generated value
    })
    state.update_kw_holder(nth=0, opts={'if_exists': True}, values={'info': None, 'infos': []})
    state.teardown()

def test_a_deleted_instance_saved_again_is_written_again(oracle_world):
    # written-after-delete
    state = Oracle()
    state.update_new_cat(keys={
        'p': 0,  # or any other generated value
        'n': 0,  # or any other generated value
    }, opts={}, values={})
    state.delete_cat(nth=0, opts={})
    state.save_cat(nth=0, opts={}, values={})
    state.teardown()


def test_a_counter_instance_of_a_refused_batch_is_written_as_new(oracle_world):
    # written-after-a-refused-batch
    state = Oracle()
    _toggle_batch(state, 3)
    state.get_animal(keys={
        'p': 0,  # or any other generated value
        'n': 0,  # or any other generated value
    })
    state.create_tally(keys={
        'k': 0,  # or any other generated value
    }, opts={'batch': True}, values={})
    _toggle_batch(state, 5)
    state.get_animal(keys={
        'p': 0,  # or any other generated value
        'n': 0,  # or any other generated value
    })
    state.update_kw_tally(nth=0, opts={'batch': True}, values={})
    state.teardown()


def test_a_deleted_instance_updated_is_written_again(oracle_world):
    # written-after-delete
    state = Oracle()
    state.create_row(keys={'p': 0, 'ck': None}, opts={}, values={})
    state.get_dog(keys={'p': 0, 'n': 0})
    state.save_new_nest(keys={'k': 0}, opts={}, values={'r': 'a'})
    state.delete_nest(nth=0, opts={})
    state.update_kw_nest(nth=0, opts={}, values={})
    state.teardown()


def test_iff_none_with_if_exists_refused_after_assigning(oracle_world):
    # iff-none: ours assigns, then refuses if_exists() with iff(); the peer refuses None in iff() first.
    state = Oracle()
    state.save_new_cat(keys={"p": 0, "n": 0}, opts={}, values={"name": None, "lives": 0})
    state.update_kw_cat(nth=0, opts={"if_exists": True, "iff": {"name": None}}, values={"lives": None})
    state.teardown()


def test_a_static_only_conditional_write_refused_where_the_server_refuses_the_peer(oracle_world):
    # static-only-with-a-regular-value: the peer's statement (IF ... IF EXISTS) is refused by the server.
    state = Oracle()
    state.get_animal(keys={"p": 0, "n": 0})
    state.update_new_animal(keys={"p": 0, "n": 0}, opts={}, values={})
    state.update_new_row(keys={"p": 0, "ck": None}, opts={"if_exists": True, "iff": {"v": ""}},
                         values={"s": 0, "v": ""})
    state.teardown()


def test_nothing_to_write_refused_where_the_server_refuses_the_peer(oracle_world):
    # nothing-to-write: the peer sends IF ... IF EXISTS, which the server refuses.
    state = Oracle()
    state.create_nest(keys={"k": 0}, opts={}, values={"r": "a", "dt": None})
    state.assign_update_nest(nth=0, opts={"if_exists": True, "iff": {"r": ""}}, values={})
    state.teardown()


def test_a_collection_written_as_none_holds_the_empty_collection(oracle_world):
    # collection-none-until-read: ours holds None; the peer's next write turns it into [].
    state = Oracle()
    state.create_holder(keys={"k": 0}, opts={}, values={"info": None, "infos": None})
    state.update_kw_holder(nth=0, opts={}, values={"info": None, "infos": None})
    state.update_kw_holder(nth=0, opts={}, values={})
    state.teardown()


def test_a_map_set_to_none_holds_none_until_read(oracle_world):
    # collection-none-until-read: the peer's next write turns the None map into {}.
    state = Oracle()
    state.create_nest(keys={"k": 0}, opts={}, values={"ms": None, "r": "a", "tp": None, "ls": None, "dt": None})
    state.assign_update_nest(nth=0, opts={}, values={"ms": None})
    state.assign_update_nest(nth=0, opts={}, values={})
    state.teardown()


def test_a_timestamp_on_a_counter_write_is_refused_before_sending(oracle_world):
    # counter-timestamp-refused-first: the peer sends nothing here (no counter changed), and elsewhere lets
    # the server refuse it.
    state = Oracle()
    state.qs_update_nest(keys={'k': 0}, opts={}, values={'r': None, 'dt': None})
    _toggle_batch(state, 13)
    state.assign_update_tally(nth=0, opts={}, values={})
    state.create_tally(keys={'k': 0}, opts={}, values={})
    state.create_tally(keys={'k': 0}, opts={}, values={})
    state.assign_update_tally(nth=0, opts={}, values={})
    state.create_tally(keys={'k': 0}, opts={'batch': True, 'timestamp': 1000}, values={})
    _toggle_batch(state, 1)
    state.read_nest(how='list', keys={'k': 0}, where={}, window=(0, 0))
    state.assign_update_tally(nth=2, opts={'batch': True, 'timestamp': 1000}, values={})
    state.teardown()


def test_a_timestamp_on_an_unchanged_counter_is_refused_where_the_peer_sends_nothing(oracle_world):
    # counter-timestamp-refused-first: the instance's batch was refused, so both hold it as new; the peer's
    # update() then finds no counter changed and sends nothing.
    state = Oracle()
    _toggle_batch(state, 1)
    state.create_tally(keys={'k': 0}, opts={'batch': True}, values={})
    _toggle_batch(state, 1)
    state.assign_update_tally(nth=0, opts={'timestamp': 1000}, values={})
    state.teardown()


def test_a_condition_on_a_regular_column_without_the_clustering_key_is_refused_first(oracle_world):
    # static-only-with-a-regular-value: ours refused after the server, the peer before it (None in iff).
    state = Oracle()
    state.update_new_row(keys={'p': 0, 'ck': None}, opts={'iff': {'v': None}}, values={'s': 0})
    state.teardown()


def test_a_conditional_delete_without_the_clustering_key_is_refused_first(oracle_world):
    # delete-without-clustering-key: the peer renders IF v = '' IF EXISTS, which the server refuses.
    state = Oracle()
    state.create_row(keys={'p': 0, 'ck': None}, opts={}, values={'s': 0})
    state.delete_row(nth=0, opts={'if_exists': True, 'iff': {'v': ''}})
    state.teardown()


def test_a_delete_dated_in_the_past_does_not_date_the_next_one(oracle_world):
    # timestamp-kept-after-delete: the peer's second delete() is dated 1000 again and deletes nothing.
    state = Oracle()
    state.create_row(keys={'p': 0, 'ck': 0}, opts={}, values={})
    state.delete_row(nth=0, opts={'timestamp': 1000})
    state.delete_row(nth=0, opts={})
    state.teardown()


def test_an_unchanged_counter_instance_adds_nothing_after_its_row_was_deleted(oracle_world):
    # unchanged-counters-add-nothing: the peer adds 0 to each counter and the row is back.
    state = Oracle()
    state.save_new_tally(keys={'k': 0}, opts={}, values={})
    state.qs_delete_tally(keys={'k': 0}, opts={})
    state.update_kw_tally(nth=0, opts={}, values={})
    state.teardown()


def test_a_queryset_update_to_none_is_dated_as_asked(oracle_world):
    # qs-update-none-dated: the peer's delete of the None columns is dated now, so the append shows there.
    state = Oracle()
    state.qs_update_holder(keys={'k': 2}, opts={'timestamp': 4_102_444_800_000_000}, values={'infos': None})
    state.qs_update_holder(keys={'k': 2}, opts={}, values={'info': None, 'infos__append': [UDT(name=None, tags=None)]})
    state.teardown()


def test_a_queryset_update_to_none_in_the_future_locks_the_column_out(oracle_world):
    # qs-update-none-dated
    state = Oracle()
    state.qs_update_holder(keys={'k': 0}, opts={'timestamp': 4_102_444_800_000_000}, values={'info': None})
    state.create_holder(keys={'k': 0}, opts={}, values={'info': UDT(name=None, tags=None)})
    state.teardown()


def test_an_unchanged_counter_instance_leaves_a_counter_without_a_value_alone(oracle_world):
    # unchanged-counters-add-nothing: the peer's c2 = c2 + 0 gives c2 a value.
    state = Oracle()
    state.qs_update_tally(keys={'k': 0}, opts={}, values={'c1': 0})
    state.get_tally(keys={'k': 0})
    state.assign_update_tally(nth=0, opts={}, values={})
    state.teardown()


def test_a_static_only_queryset_update_with_a_row_condition_is_refused_first(oracle_world):
    # query-refused-before-sending: ours raises QueryException, the server refuses the peer's statement
    # ("Some clustering keys are missing"); with iff(v=None) both refuse it client-side.
    state = Oracle()
    state.get_animal(keys={'p': 0, 'n': 0})
    state.qs_update_row(keys={'p': 0}, opts={'batch': True, 'iff': {'v': None}}, values={'s': None})
    state.qs_update_row(keys={'p': 0}, opts={'iff': {'v': ''}}, values={'s': 1})
    state.teardown()


def test_a_timestamp_kept_from_a_refused_write_dates_the_next_one(oracle_world):
    # refused-write-keeps-its-options: update() with nothing to write is refused, its timestamp(1000) kept;
    # the next update() deletes lives at 1000, before the value written since. The peer dates it now.
    state = Oracle()
    state.save_new_cat(keys={'p': 0, 'n': 0}, opts={}, values={})
    state.update_kw_cat(nth=0, opts={'timestamp': 1000}, values={})
    state.assign_update_cat(nth=0, opts={}, values={'lives': None})
    state.teardown()


def test_a_past_dated_delete_in_a_batch_does_not_date_the_next_one(oracle_world):
    # timestamp-kept-after-delete, with batch() asked where no batch is open.
    state = Oracle()
    state.save_new_holder(keys={'k': 0}, opts={}, values={})
    state.delete_holder(nth=0, opts={'batch': True, 'timestamp': 1000})
    state.delete_holder(nth=0, opts={'batch': True})
    state.teardown()


def test_none_assigned_to_a_column_a_save_left_unwritten_is_written(oracle_world):
    # update-new-none-writes-null: save() of a new instance leaves info unwritten (None), so info = None is
    # a change: update() writes null at the timestamp asked (2100), which the next write cannot overwrite.
    # The peer sends nothing.
    state = Oracle()
    state.save_new_holder(keys={'k': 0}, opts={}, values={})
    state.assign_update_holder(nth=0, opts={'timestamp': 4_102_444_800_000_000}, values={'info': None})
    state.update_kw_holder(nth=0, opts={}, values={'info': UDT(name=None, tags=None)})
    state.teardown()


def test_an_empty_operation_on_a_regular_column_needs_the_full_key(oracle_world):
    # empty-operation-names-its-row: the peer drops li__append=[] and writes s for the partition.
    state = Oracle()
    state.qs_update_row(keys={'p': 0}, opts={}, values={'s': 0, 'li__append': []})
    state.teardown()


def test_a_static_only_queryset_update_by_full_key_with_a_row_condition_names_its_row(oracle_world):
    # By its full primary key the update keeps the clustering key, which the condition on v reads (Cassandra
    # takes it); refused only on a partial key (see the test above).
    state = Oracle()
    state.get_animal(keys={'p': 0, 'n': 0})
    state.qs_update_row(keys={'p': 0, 'ck': 0}, opts={'batch': True, 'iff': {'v': ''}}, values={'s': None})
    state.teardown()


def test_a_counter_assigned_its_own_value_adds_nothing(oracle_world):
    # unchanged-counters-add-nothing: c1 = 0 on a counter reading 0 changes nothing, so nothing is sent; the
    # peer adds 0 to each counter and brings the deleted row back.
    state = Oracle()
    state.create_tally(keys={'k': 1}, opts={}, values={})
    state.qs_delete_tally(keys={'k': 1}, opts={})
    state.assign_update_tally(nth=0, opts={}, values={'c1': 0})
    state.teardown()


def test_an_empty_collection_with_a_timestamp_is_written_at_it(oracle_world):
    # empty-collection-dated: the peer also deletes infos dated now, over the write made since.
    state = Oracle()
    state.update_new_holder(keys={'k': 1}, opts={}, values={'infos': [UDT(name=None, tags=None)]})
    state.update_new_holder(keys={'k': 1}, opts={'timestamp': 1000}, values={'infos': []})
    state.teardown()


def test_a_static_update_with_none_for_a_regular_column_needs_the_full_key(oracle_world):
    # empty-operation-names-its-row: the peer's UPDATE ... IF EXISTS for the partition is not applied.
    state = Oracle()
    state.qs_update_row(keys={'p': 0}, opts={'if_exists': True}, values={'s': 0, 'mp': None})
    state.teardown()


def test_a_conditional_update_after_delete_checks_its_condition(oracle_world):
    # conditional-write-after-delete: written as new, so IF EXISTS is checked (LWTException, the row is
    # gone); the peer has nothing changed and sends nothing.
    state = Oracle()
    state.create_cat(keys={'p': 0, 'n': 0}, opts={}, values={'name': '', 'lives': 2})
    state.delete_cat(nth=0, opts={})
    state.assign_update_cat(nth=0, opts={'if_exists': True}, values={})
    state.teardown()


def test_a_static_only_instance_update_with_a_row_condition_names_its_row(oracle_world):
    # The UPDATE keeps the clustering key the condition on v needs (it was refused by the server: "Some
    # clustering keys are missing"); the peer refuses iff(v=None) before sending (iff-none).
    state = Oracle()
    state.update_new_row(keys={'p': 0, 'ck': 0}, opts={'iff': {'v': None}}, values={'s': None})
    state.update_new_row(keys={'p': 0, 'ck': 0}, opts={'iff': {'v': ''}}, values={'s': 1})
    state.teardown()


def test_an_update_with_nothing_changed_leaves_a_later_value_alone(oracle_world):
    # save-of-unchanged-nones: the peer deletes bark again (its constructor was given None), over the 0 that
    # another instance of the row wrote since.
    state = Oracle()
    state.save_new_dog(keys={'p': 0, 'n': 1}, opts={}, values={'bark': None})
    state.save_new_dog(keys={'p': 0, 'n': 1}, opts={}, values={'bark': 0})
    state.assign_update_dog(nth=0, opts={}, values={})
    state.teardown()


def test_an_unchanged_counter_update_after_a_delete_brings_nothing_back(oracle_world):
    # unchanged-counters-add-nothing: the peer's +0 brings the deleted row back, here with its old count (1):
    # Cassandra may keep a deleted counter's count under a later increment.
    state = Oracle()
    state.save_new_tally(keys={'k': 1}, opts={}, values={'c1': 1})
    state.qs_delete_tally(keys={'k': 1}, opts={})
    state.assign_update_tally(nth=0, opts={}, values={})
    state.teardown()


def test_an_empty_map_operation_keeps_the_map(oracle_world):
    # empty-map-operation-keeps-the-map: the peer assigns the empty map, deleting it.
    state = Oracle()
    state.save_new_nest(keys={'k': 0}, opts={}, values={'ls': None, 'r': 'a', 'ms': {'a': set()}})
    state.qs_update_nest(keys={'k': 0}, opts={}, values={'ms__update': {}})
    state.teardown()


def test_a_get_matching_an_untyped_row_and_another_reports_both(oracle_world):
    # untyped-row-through-the-base: ours MultipleObjectsReturned, the peer PolymorphicModelException.
    state = Oracle()
    state.qs_update_animal(keys={'p': 1, 'n': 0}, opts={}, values={'name': ''})
    state.create_cat(keys={'p': 1, 'n': 1}, opts={}, values={})
    state.read_animal(how='get', keys={'p': 1}, where={}, window=(0, 0))
    state.teardown()


def test_a_conditional_update_of_an_instance_made_with_a_static_none(oracle_world):
    # none-in-the-conditional-statement: the peer deletes the static None again, under IF EXISTS, and raises.
    state = Oracle()
    state.save_new_row(keys={'p': 0, 'ck': 0}, opts={}, values={'s': None})
    state.assign_update_row(nth=0, opts={'if_exists': True}, values={'v': ''})
    state.teardown()


def test_a_counter_saved_after_its_row_was_deleted_adds_only_what_changed(oracle_world):
    # unchanged-counters-add-nothing: the peer also adds 0 to c2, which then reads 0.
    state = Oracle()
    state.create_tally(keys={'k': 0}, opts={}, values={})
    state.create_tally(keys={'k': 0}, opts={}, values={})
    state.delete_tally(nth=1, opts={})
    state.save_tally(nth=0, opts={}, values={'c1': 1})
    state.teardown()


def test_an_empty_collection_created_with_a_future_timestamp_hides_later_appends(oracle_world):
    # empty-collection-dated: ours writes the empty list at 2100; the peer's DELETE is dated now.
    state = Oracle()
    _toggle_batch(state, 4)
    state.create_holder(keys={'k': 2}, opts={'batch': True, 'timestamp': 4_102_444_800_000_000},
                        values={'info': None, 'infos': []})
    state.qs_update_holder(keys={'k': 2}, opts={}, values={'info': None, 'infos__append': [UDT(name=None, tags=None)]})
    state.teardown()


def test_an_empty_map_operation_dated_into_the_future_leaves_no_tombstone(oracle_world):
    # empty-map-operation-keeps-the-map: the peer's mp = {} at 2100 hides the later entry.
    state = Oracle()
    state.qs_update_nest(keys={'k': 0}, opts={'timestamp': 4_102_444_800_000_000}, values={'ms__update': {}})
    state.qs_update_nest(keys={'k': 0}, opts={}, values={'r': None})
    state.qs_update_nest(keys={'k': 0}, opts={}, values={'ms__update': {'a': set()}})
    state.teardown()


def test_a_static_none_saved_with_a_regular_condition_is_checked(oracle_world):
    # none-in-the-conditional-statement: the peer's DELETE of s IF v = '' is refused by the server.
    state = Oracle()
    state.save_new_row(keys={'p': 0, 'ck': 0}, opts={}, values={})
    state.save_row(nth=0, opts={'iff': {'v': ''}}, values={'s': None})
    state.teardown()


def test_a_static_value_and_an_emptied_map_are_one_update_of_the_row(oracle_world):
    # static-with-an-emptied-collection: the peer's UPDATE of s alone with the clustering key is refused.
    state = Oracle()
    state.qs_update_animal(keys={'p': 0}, opts={}, values={'name': ''})
    state.create_row(keys={'p': 0, 'ck': 0}, opts={}, values={'mp': {'a': 0}})
    state.assign_update_row(nth=0, opts={}, values={'s': 0, 'mp': {}})
    state.teardown()


def test_an_unchanged_value_is_rewritten_for_the_ttl_the_instance_was_created_with(oracle_world):
    # unchanged-value-rewritten-for-its-ttl: the instance keeps its creation's ttl(); ours rewrites name with it.
    state = Oracle()
    state.create_animal(keys={'p': 0, 'n': 0}, opts={}, values={})
    state.create_cat(keys={'p': 0, 'n': 0}, opts={'timestamp': 1000, 'ttl': 3600}, values={'name': ''})
    state.update_kw_cat(nth=0, opts={}, values={'name': ''})
    state.teardown()


def test_a_batched_delete_with_no_batch_open_is_sent_at_once(oracle_world):
    # instance-options-one-shot: the peer's instance queues it in the batch it ran before, which never runs again.
    state = Oracle()
    state.batch(how='exit')
    state.save_new_holder(keys={'k': 0}, opts={}, values={})
    state.delete_holder(nth=0, opts={'batch': True})
    state.batch(how='exit')
    state.batch(how='exit')
    state.batch(how='exit')
    state.delete_holder(nth=0, opts={'batch': True, 'if_exists': True})
    state.teardown()


def test_a_delete_after_a_batched_create_is_sent_at_once(oracle_world):
    # write-after-a-batched-write: the peer's instance queues its delete in the open batch, after the insert.
    state = Oracle()
    state.batch(how='exit')
    state.batch(how='exit')
    state.batch(how='exit')
    state.batch(how='exit')
    state.batch(how='exit')
    state.create_cat(keys={'p': 0, 'n': 0}, opts={'batch': True}, values={})
    state.delete_cat(nth=0, opts={})
    state.batch(how='exit')
    state.teardown()


def test_a_queryset_map_assignment_is_merged_key_by_key(oracle_world):
    # The peer sends ms['a'] = ? for the key given: 'c', which it was not given, keeps its value.
    state = Oracle()
    state.qs_update_nest(keys={'k': 0}, opts={}, values={'ms__update': {'a': set(), 'c': set()}})
    state.qs_update_nest(keys={'k': 0}, opts={}, values={'ms': {'a': set()}})
    state.teardown()


def test_a_conditional_queryset_update_setting_none_is_one_statement(oracle_world):
    # none-in-the-conditional-statement: the peer's second statement (DELETE info IF EXISTS) finds no row,
    # since its first one (infos = []) emptied the row an UPDATE had made, and raises LWTException.
    state = Oracle()
    state.qs_update_holder(keys={'k': 0}, opts={}, values={'infos': [UDT(name=None, tags=None)]})
    state.qs_update_holder(keys={'k': 0}, opts={'if_exists': True}, values={'infos': [], 'info': None})
    state.teardown()


def test_a_conditional_update_of_a_new_instance_setting_a_static_none_is_checked(oracle_world):
    # none-in-the-conditional-statement: the peer deletes the static column under a condition on a regular
    # one, which the server refuses; ours sends one conditional UPDATE, whose condition fails here.
    state = Oracle()
    state.update_new_row(keys={'p': 0, 'ck': 0}, opts={'iff': {'v': ''}}, values={'s': None})
    state.teardown()


def test_a_batched_write_dated_in_the_past_shows_through_a_none_given_to_a_new_instance(oracle_world):
    # new-instance-none-no-tombstone: the peer's create(name=None) deletes name now, which hides the batch's
    # name = '' dated 1000 when the batch runs; ours wrote nothing for the None, so the batch's value shows.
    state = Oracle()
    state.batch(how='exit')
    state.create_dog(keys={'p': 0, 'n': 0}, opts={}, values={'name': None, 'bark': None})
    state.create_dog(keys={'p': 0, 'n': 0}, opts={'batch': True, 'timestamp': 1000}, values={'name': ''})
    state.batch(how='exit')
    state.teardown()


def test_removing_a_map_key_in_a_table_with_a_static_column(oracle_world):
    # map-key-removal-beside-a-static-column: the peer deletes the key dropped from the map with the
    # partition key alone, which the server refuses after its UPDATE applied; ours writes the map as given.
    state = Oracle()
    state.create_row(keys={'p': 0, 'ck': 0}, opts={}, values={'mp': {'b': 0}})
    state.save_row(nth=0, opts={}, values={'mp': {'a': 0}})
    state.create_row(keys={'p': 1, 'ck': 0}, opts={}, values={'mp': {'b': 0}})
    state.update_kw_row(nth=0, opts={}, values={'mp': {'a': 0}})
    state.create_row(keys={'p': 2, 'ck': 0}, opts={}, values={'mp': {'b': 0}})
    state.batch(how='exit')
    state.save_row(nth=0, opts={'batch': True}, values={'mp': {'a': 0}})
    state.batch(how='exit')  # the peer's batch holds the refused DELETE: none of it applies
    state.teardown()


def test_a_counter_deleted_by_a_queryset_comes_back_under_the_peers_plus_zero(oracle_world):
    # unchanged-counters-add-nothing: after the queryset delete, the peer's update() of c1 also sends
    # c2 = c2 + 0, and Cassandra brings the deleted count of c2 back (1); ours sends c1 alone.
    state = Oracle()
    state.save_new_tally(keys={'k': 0}, opts={}, values={'c2': 1})
    state.qs_delete_tally(keys={'k': 0}, opts={})
    state.assign_update_tally(nth=0, opts={}, values={'c1': 1})
    state.teardown()


def test_a_write_refused_before_sending_where_the_peer_applied_part_of_it(oracle_world):
    # query-refused-before-sending: both raise an InvalidRequest (ours an InvalidQuery, before sending);
    # the peer's UPDATE of the static column applied before the server refused the DELETE of the map.
    state = Oracle()
    state.qs_update_row(keys={"p": 0}, opts={}, values={"s": 0, "mp": None})
    state.teardown()


def test_a_map_losing_a_key_beside_a_static_column_with_a_condition(oracle_world):
    # map-key-removal-beside-a-static-column: with if_exists() the server refuses the peer's DELETE in other words.
    state = Oracle()
    state.save_new_row(keys={"ck": 0, "p": 0}, opts={}, values={"mp": {"a": 0, "b": 0}})
    state.assign_update_row(nth=0, opts={"if_exists": True}, values={"mp": {"a": 0}})
    state.teardown()


def test_an_empty_conditional_operation_in_a_batch(oracle_world):
    # empty-operation-with-a-condition: ours sends it in the batch, whose condition then fails (no row);
    # the peer's batch holds nothing.
    state = Oracle()
    _toggle_batch(state, 1)
    state.qs_update_nest(keys={"k": 0}, opts={"batch": True, "if_exists": True}, values={"ls__append": []})
    _toggle_batch(state, 1)
    state.teardown()


def test_an_empty_map_operation_on_a_row_holding_only_the_map(oracle_world):
    # empty-map-operation-keeps-the-map: the peer's `ms = {}` deletes the map, and the row an update made with it
    state = Oracle()
    state.qs_update_nest(keys={'k': 0}, opts={}, values={'ms': {'a': set()}})
    state.qs_update_nest(keys={'k': 0}, opts={}, values={'ms__update': {}})
    state.teardown()


def test_an_unchanged_value_rewritten_for_its_ttl_checks_its_condition(oracle_world):
    # unchanged-value-rewritten-for-its-ttl: ours sends the rewrite and its condition fails; the peer sends nothing
    state = Oracle()
    state.create_dog(keys={'p': 0, 'n': 0}, opts={}, values={})
    state.update_kw_dog(nth=0, opts={'ttl': 3600}, values={'name': 'b'})
    state.update_kw_dog(nth=0, opts={'iff': {'name': ''}}, values={'name': 'b'})
    state.teardown()


def test_an_unchanged_value_rewritten_for_its_ttl_in_a_batch_checks_its_condition(oracle_world):
    # unchanged-value-rewritten-for-its-ttl: the batch holding ours' conditional rewrite raises when it runs
    state = Oracle()
    state.create_dog(keys={'p': 0, 'n': 0}, opts={}, values={})
    state.update_kw_dog(nth=0, opts={'ttl': 3600}, values={'name': 'b'})
    state.batch(how='exit')
    state.update_kw_dog(nth=0, opts={'batch': True, 'iff': {'name': ''}}, values={'name': 'b'})
    state.batch(how='exit')
    state.teardown()


def test_an_instance_saved_in_a_batch_after_its_delete_is_written_when_the_batch_runs(oracle_world):
    # written-after-delete: ours' batch writes the row again, the peer's holds nothing
    state = Oracle()
    state.batch(how='exit')
    state.update_new_cat(keys={'p': 0, 'n': 0}, opts={}, values={})
    state.delete_cat(nth=0, opts={})
    state.save_cat(nth=0, opts={'batch': True}, values={})
    state.batch(how='exit')
    state.teardown()


def test_a_conditional_save_in_a_batch_after_its_delete_is_checked_when_the_batch_runs(oracle_world):
    # conditional-write-after-delete: ours' batch checks the condition (LWTException), the peer's holds nothing
    state = Oracle()
    state.batch(how='exit')
    state.update_new_cat(keys={'p': 0, 'n': 0}, opts={}, values={})
    state.delete_cat(nth=0, opts={})
    state.save_cat(nth=0, opts={'batch': True, 'if_exists': True}, values={})
    state.batch(how='exit')
    state.teardown()


def test_an_empty_conditional_update_in_a_batch_over_two_partitions_is_refused_with_it(oracle_world):
    # empty-operation-with-a-condition: ours' batch holds a conditional update and another partition's write,
    # which the server refuses; the peer's batch goes without the empty update, and is applied
    state = Oracle()
    state.batch(how='exit')
    state.qs_update_holder(keys={'k': 1}, opts={'batch': True}, values={'info': None})
    state.qs_update_holder(keys={'k': 0}, opts={'batch': True, 'if_exists': True}, values={'infos__append': []})
    state.batch(how='exit')
    state.teardown()


def test_values_of_columns_all_filtered_are_read(oracle_world):
    # values-of-filtered-columns: the peer raises QueryException ("No fields in select query")
    state = Oracle()
    state.create_holder(keys={'k': 0}, opts={}, values={'info': UDT(name=None, tags=None)})
    state.read_holder(how='values_list', keys={'k': 0}, where={'info': UDT(name=None, tags=None)}, window=(0, 0))
    state.read_holder(how='flat', keys={'k': 0}, where={'info': UDT(name=None, tags=None)}, window=(0, 0))
    state.read_holder(how='only', keys={'k': 0}, where={'info': UDT(name=None, tags=None)}, window=(0, 0))
    state.teardown()


def test_values_of_keys_and_a_static_column_are_read(oracle_world):
    # values-of-filtered-columns: the peer selects the static column alone, which the server refuses
    state = Oracle()
    state.create_row(keys={'p': 0, 'ck': 0}, opts={}, values={'s': 1, 'v': 'a'})
    state.read_row(how='values_list', keys={'p': 0, 'ck': 0}, where={}, window=(0, 0))
    state.read_row(how='flat', keys={'p': 0, 'ck': 0}, where={}, window=(0, 0))
    state.read_row(how='only', keys={'p': 0, 'ck': 0}, where={}, window=(0, 0))
    state.teardown()


def test_a_collection_left_out_of_a_part_read_is_none(oracle_world):
    # part-read-collection-none: the peer's instance holds an empty list
    state = Oracle()
    state.save_new_holder(keys={'k': 0}, opts={}, values={})
    state.read_holder(how='only', keys={'k': 0}, where={}, window=(0, 0))
    state.read_holder(how='distinct', keys={'k': 0}, where={}, window=(0, 0))
    state.teardown()


def test_a_counter_left_out_of_a_part_read_is_none(oracle_world):
    # part-read-collection-none: the peer's instance holds 0 for the counter it did not read
    state = Oracle()
    state.qs_update_tally(keys={'k': 0}, opts={}, values={'c1': 0})
    state.read_tally(how='only', keys={'k': 0}, where={}, window=(0, 0))
    state.teardown()


def test_a_column_with_a_default_left_out_of_a_part_read_is_none(oracle_world):
    # part-read-collection-none: the peer's instance holds the column's default (42), and empty collections
    state = Oracle()
    state.save_new_row(keys={'p': 0, 'ck': 0}, opts={}, values={})
    state.read_row(how='only', keys={'p': 0}, where={}, window=(0, 0))
    state.teardown()
