/**
 * GENERATED FILE, do not edit: run `node scripts/generate-sqlstate.ts` (npm run generate:sqlstate).
 *
 * Every SQLSTATE code PostgreSQL defines, keyed by condition name, from `scripts/errcodes.txt`
 * (a verbatim copy of PostgreSQL's `src/backend/utils/errcodes.txt`, copyright (c) 2003-2026
 * PostgreSQL Global Development Group, PostgreSQL License). The unit test
 * `packages/protocol/test/SqlState.test.ts` fails while this file is out of date.
 *
 * Naming rule for the keys of {@link SqlState}:
 *
 * 1. A code's key is its PL/pgSQL condition name (`unique_violation`). A line of errcodes.txt
 *    without one gets its C macro name without `ERRCODE_`, lowercased
 *    (`ERRCODE_UNDEFINED_CURSOR` -> `undefined_cursor`).
 * 2. When one name belongs to lines with different codes, the line whose macro is exactly
 *    `ERRCODE_<NAME>` keeps the bare name (or, if none is, the first such line in file order) and
 *    the others are prefixed with their class name from the section header, e.g. `01004` becomes
 *    `warning_string_data_right_truncation` and `22001` stays `string_data_right_truncation`.
 *
 * Renamed by rule 2 in this version:
 * - `warning_string_data_right_truncation` (01004; PL/pgSQL calls it `string_data_right_truncation`)
 * - `external_routine_exception_modifying_sql_data_not_permitted` (38002; PL/pgSQL calls it `modifying_sql_data_not_permitted`)
 * - `external_routine_exception_prohibited_sql_statement_attempted` (38003; PL/pgSQL calls it `prohibited_sql_statement_attempted`)
 * - `external_routine_exception_reading_sql_data_not_permitted` (38004; PL/pgSQL calls it `reading_sql_data_not_permitted`)
 * - `external_routine_invocation_exception_null_value_not_allowed` (39004; PL/pgSQL calls it `null_value_not_allowed`)
 *
 * Some codes have more than one key (an alias kept from errcodes.txt, such as
 * `undefined_cursor` for `34000`, whose condition name is `invalid_cursor_name`). Keys derived
 * from macro names by rule 1 in this version:
 * - `array_element_error` (2202E)
 * - `datetime_value_out_of_range` (22008)
 * - `undefined_cursor` (34000)
 * - `undefined_database` (3D000)
 * - `undefined_pstatement` (26000)
 * - `undefined_schema` (3F000)
 *
 * {@link conditionNameOf} maps a code back to one key: the line with a PL/pgSQL condition name,
 * or the first line for that code.
 *
 * @since 0.1.0
 */

/**
 * SQLSTATE codes by condition name, in the order of errcodes.txt.
 *
 * @example
 * ```ts
 * import { SqlState } from "@pgfx/protocol/SqlState"
 * SqlState.unique_violation // "23505"
 * if (fields.code === SqlState.unique_violation) return "duplicate"
 * ```
 * @since 0.1.0
 * @category codes
 */
export const SqlState = {
  // Class 00 - Successful Completion
  /** 00000: success `ERRCODE_SUCCESSFUL_COMPLETION`. */
  successful_completion: "00000",

  // Class 01 - Warning
  /** 01000: warning `ERRCODE_WARNING`. */
  warning: "01000",
  /** 0100C: warning `ERRCODE_WARNING_DYNAMIC_RESULT_SETS_RETURNED`. */
  dynamic_result_sets_returned: "0100C",
  /** 01008: warning `ERRCODE_WARNING_IMPLICIT_ZERO_BIT_PADDING`. */
  implicit_zero_bit_padding: "01008",
  /** 01003: warning `ERRCODE_WARNING_NULL_VALUE_ELIMINATED_IN_SET_FUNCTION`. */
  null_value_eliminated_in_set_function: "01003",
  /** 01007: warning `ERRCODE_WARNING_PRIVILEGE_NOT_GRANTED`. */
  privilege_not_granted: "01007",
  /** 01006: warning `ERRCODE_WARNING_PRIVILEGE_NOT_REVOKED`. */
  privilege_not_revoked: "01006",
  /** 01004: warning `ERRCODE_WARNING_STRING_DATA_RIGHT_TRUNCATION`. */
  warning_string_data_right_truncation: "01004",
  /** 01P01: warning `ERRCODE_WARNING_DEPRECATED_FEATURE`. */
  deprecated_feature: "01P01",

  // Class 02 - No Data (this is also a warning class per the SQL standard)
  /** 02000: warning `ERRCODE_NO_DATA`. */
  no_data: "02000",
  /** 02001: warning `ERRCODE_NO_ADDITIONAL_DYNAMIC_RESULT_SETS_RETURNED`. */
  no_additional_dynamic_result_sets_returned: "02001",

  // Class 03 - SQL Statement Not Yet Complete
  /** 03000: error `ERRCODE_SQL_STATEMENT_NOT_YET_COMPLETE`. */
  sql_statement_not_yet_complete: "03000",

  // Class 08 - Connection Exception
  /** 08000: error `ERRCODE_CONNECTION_EXCEPTION`. */
  connection_exception: "08000",
  /** 08003: error `ERRCODE_CONNECTION_DOES_NOT_EXIST`. */
  connection_does_not_exist: "08003",
  /** 08006: error `ERRCODE_CONNECTION_FAILURE`. */
  connection_failure: "08006",
  /** 08001: error `ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION`. */
  sqlclient_unable_to_establish_sqlconnection: "08001",
  /** 08004: error `ERRCODE_SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION`. */
  sqlserver_rejected_establishment_of_sqlconnection: "08004",
  /** 08007: error `ERRCODE_TRANSACTION_RESOLUTION_UNKNOWN`. */
  transaction_resolution_unknown: "08007",
  /** 08P01: error `ERRCODE_PROTOCOL_VIOLATION`. */
  protocol_violation: "08P01",

  // Class 09 - Triggered Action Exception
  /** 09000: error `ERRCODE_TRIGGERED_ACTION_EXCEPTION`. */
  triggered_action_exception: "09000",

  // Class 0A - Feature Not Supported
  /** 0A000: error `ERRCODE_FEATURE_NOT_SUPPORTED`. */
  feature_not_supported: "0A000",

  // Class 0B - Invalid Transaction Initiation
  /** 0B000: error `ERRCODE_INVALID_TRANSACTION_INITIATION`. */
  invalid_transaction_initiation: "0B000",

  // Class 0F - Locator Exception
  /** 0F000: error `ERRCODE_LOCATOR_EXCEPTION`. */
  locator_exception: "0F000",
  /** 0F001: error `ERRCODE_L_E_INVALID_SPECIFICATION`. */
  invalid_locator_specification: "0F001",

  // Class 0L - Invalid Grantor
  /** 0L000: error `ERRCODE_INVALID_GRANTOR`. */
  invalid_grantor: "0L000",
  /** 0LP01: error `ERRCODE_INVALID_GRANT_OPERATION`. */
  invalid_grant_operation: "0LP01",

  // Class 0P - Invalid Role Specification
  /** 0P000: error `ERRCODE_INVALID_ROLE_SPECIFICATION`. */
  invalid_role_specification: "0P000",

  // Class 0Z - Diagnostics Exception
  /** 0Z000: error `ERRCODE_DIAGNOSTICS_EXCEPTION`. */
  diagnostics_exception: "0Z000",
  /** 0Z002: error `ERRCODE_STACKED_DIAGNOSTICS_ACCESSED_WITHOUT_ACTIVE_HANDLER`. */
  stacked_diagnostics_accessed_without_active_handler: "0Z002",

  // Class 10 - XQuery Error
  /** 10608: error `ERRCODE_INVALID_ARGUMENT_FOR_XQUERY`. */
  invalid_argument_for_xquery: "10608",

  // Class 20 - Case Not Found
  /** 20000: error `ERRCODE_CASE_NOT_FOUND`. */
  case_not_found: "20000",

  // Class 21 - Cardinality Violation
  /** 21000: error `ERRCODE_CARDINALITY_VIOLATION`. */
  cardinality_violation: "21000",

  // Class 22 - Data Exception
  /** 22000: error `ERRCODE_DATA_EXCEPTION`. */
  data_exception: "22000",
  /** 2202E: error `ERRCODE_ARRAY_ELEMENT_ERROR`. Same code as `array_subscript_error`. */
  array_element_error: "2202E",
  /** 2202E: error `ERRCODE_ARRAY_SUBSCRIPT_ERROR`. */
  array_subscript_error: "2202E",
  /** 22021: error `ERRCODE_CHARACTER_NOT_IN_REPERTOIRE`. */
  character_not_in_repertoire: "22021",
  /** 22008: error `ERRCODE_DATETIME_FIELD_OVERFLOW`. */
  datetime_field_overflow: "22008",
  /** 22008: error `ERRCODE_DATETIME_VALUE_OUT_OF_RANGE`. Same code as `datetime_field_overflow`. */
  datetime_value_out_of_range: "22008",
  /** 22012: error `ERRCODE_DIVISION_BY_ZERO`. */
  division_by_zero: "22012",
  /** 22005: error `ERRCODE_ERROR_IN_ASSIGNMENT`. */
  error_in_assignment: "22005",
  /** 2200B: error `ERRCODE_ESCAPE_CHARACTER_CONFLICT`. */
  escape_character_conflict: "2200B",
  /** 22022: error `ERRCODE_INDICATOR_OVERFLOW`. */
  indicator_overflow: "22022",
  /** 22015: error `ERRCODE_INTERVAL_FIELD_OVERFLOW`. */
  interval_field_overflow: "22015",
  /** 2201E: error `ERRCODE_INVALID_ARGUMENT_FOR_LOG`. */
  invalid_argument_for_logarithm: "2201E",
  /** 22014: error `ERRCODE_INVALID_ARGUMENT_FOR_NTILE`. */
  invalid_argument_for_ntile_function: "22014",
  /** 22016: error `ERRCODE_INVALID_ARGUMENT_FOR_NTH_VALUE`. */
  invalid_argument_for_nth_value_function: "22016",
  /** 2201F: error `ERRCODE_INVALID_ARGUMENT_FOR_POWER_FUNCTION`. */
  invalid_argument_for_power_function: "2201F",
  /** 2201G: error `ERRCODE_INVALID_ARGUMENT_FOR_WIDTH_BUCKET_FUNCTION`. */
  invalid_argument_for_width_bucket_function: "2201G",
  /** 22018: error `ERRCODE_INVALID_CHARACTER_VALUE_FOR_CAST`. */
  invalid_character_value_for_cast: "22018",
  /** 22007: error `ERRCODE_INVALID_DATETIME_FORMAT`. */
  invalid_datetime_format: "22007",
  /** 22019: error `ERRCODE_INVALID_ESCAPE_CHARACTER`. */
  invalid_escape_character: "22019",
  /** 2200D: error `ERRCODE_INVALID_ESCAPE_OCTET`. */
  invalid_escape_octet: "2200D",
  /** 22025: error `ERRCODE_INVALID_ESCAPE_SEQUENCE`. */
  invalid_escape_sequence: "22025",
  /** 22P06: error `ERRCODE_NONSTANDARD_USE_OF_ESCAPE_CHARACTER`. */
  nonstandard_use_of_escape_character: "22P06",
  /** 22010: error `ERRCODE_INVALID_INDICATOR_PARAMETER_VALUE`. */
  invalid_indicator_parameter_value: "22010",
  /** 22023: error `ERRCODE_INVALID_PARAMETER_VALUE`. */
  invalid_parameter_value: "22023",
  /** 22013: error `ERRCODE_INVALID_PRECEDING_OR_FOLLOWING_SIZE`. */
  invalid_preceding_or_following_size: "22013",
  /** 2201B: error `ERRCODE_INVALID_REGULAR_EXPRESSION`. */
  invalid_regular_expression: "2201B",
  /** 2201W: error `ERRCODE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE`. */
  invalid_row_count_in_limit_clause: "2201W",
  /** 2201X: error `ERRCODE_INVALID_ROW_COUNT_IN_RESULT_OFFSET_CLAUSE`. */
  invalid_row_count_in_result_offset_clause: "2201X",
  /** 2202H: error `ERRCODE_INVALID_TABLESAMPLE_ARGUMENT`. */
  invalid_tablesample_argument: "2202H",
  /** 2202G: error `ERRCODE_INVALID_TABLESAMPLE_REPEAT`. */
  invalid_tablesample_repeat: "2202G",
  /** 22009: error `ERRCODE_INVALID_TIME_ZONE_DISPLACEMENT_VALUE`. */
  invalid_time_zone_displacement_value: "22009",
  /** 2200C: error `ERRCODE_INVALID_USE_OF_ESCAPE_CHARACTER`. */
  invalid_use_of_escape_character: "2200C",
  /** 2200G: error `ERRCODE_MOST_SPECIFIC_TYPE_MISMATCH`. */
  most_specific_type_mismatch: "2200G",
  /** 22004: error `ERRCODE_NULL_VALUE_NOT_ALLOWED`. */
  null_value_not_allowed: "22004",
  /** 22002: error `ERRCODE_NULL_VALUE_NO_INDICATOR_PARAMETER`. */
  null_value_no_indicator_parameter: "22002",
  /** 22003: error `ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE`. */
  numeric_value_out_of_range: "22003",
  /** 2200H: error `ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED`. */
  sequence_generator_limit_exceeded: "2200H",
  /** 22026: error `ERRCODE_STRING_DATA_LENGTH_MISMATCH`. */
  string_data_length_mismatch: "22026",
  /** 22001: error `ERRCODE_STRING_DATA_RIGHT_TRUNCATION`. */
  string_data_right_truncation: "22001",
  /** 22011: error `ERRCODE_SUBSTRING_ERROR`. */
  substring_error: "22011",
  /** 22027: error `ERRCODE_TRIM_ERROR`. */
  trim_error: "22027",
  /** 22024: error `ERRCODE_UNTERMINATED_C_STRING`. */
  unterminated_c_string: "22024",
  /** 2200F: error `ERRCODE_ZERO_LENGTH_CHARACTER_STRING`. */
  zero_length_character_string: "2200F",
  /** 22P01: error `ERRCODE_FLOATING_POINT_EXCEPTION`. */
  floating_point_exception: "22P01",
  /** 22P02: error `ERRCODE_INVALID_TEXT_REPRESENTATION`. */
  invalid_text_representation: "22P02",
  /** 22P03: error `ERRCODE_INVALID_BINARY_REPRESENTATION`. */
  invalid_binary_representation: "22P03",
  /** 22P04: error `ERRCODE_BAD_COPY_FILE_FORMAT`. */
  bad_copy_file_format: "22P04",
  /** 22P05: error `ERRCODE_UNTRANSLATABLE_CHARACTER`. */
  untranslatable_character: "22P05",
  /** 2200L: error `ERRCODE_NOT_AN_XML_DOCUMENT`. */
  not_an_xml_document: "2200L",
  /** 2200M: error `ERRCODE_INVALID_XML_DOCUMENT`. */
  invalid_xml_document: "2200M",
  /** 2200N: error `ERRCODE_INVALID_XML_CONTENT`. */
  invalid_xml_content: "2200N",
  /** 2200S: error `ERRCODE_INVALID_XML_COMMENT`. */
  invalid_xml_comment: "2200S",
  /** 2200T: error `ERRCODE_INVALID_XML_PROCESSING_INSTRUCTION`. */
  invalid_xml_processing_instruction: "2200T",
  /** 22030: error `ERRCODE_DUPLICATE_JSON_OBJECT_KEY_VALUE`. */
  duplicate_json_object_key_value: "22030",
  /** 22031: error `ERRCODE_INVALID_ARGUMENT_FOR_SQL_JSON_DATETIME_FUNCTION`. */
  invalid_argument_for_sql_json_datetime_function: "22031",
  /** 22032: error `ERRCODE_INVALID_JSON_TEXT`. */
  invalid_json_text: "22032",
  /** 22033: error `ERRCODE_INVALID_SQL_JSON_SUBSCRIPT`. */
  invalid_sql_json_subscript: "22033",
  /** 22034: error `ERRCODE_MORE_THAN_ONE_SQL_JSON_ITEM`. */
  more_than_one_sql_json_item: "22034",
  /** 22035: error `ERRCODE_NO_SQL_JSON_ITEM`. */
  no_sql_json_item: "22035",
  /** 22036: error `ERRCODE_NON_NUMERIC_SQL_JSON_ITEM`. */
  non_numeric_sql_json_item: "22036",
  /** 22037: error `ERRCODE_NON_UNIQUE_KEYS_IN_A_JSON_OBJECT`. */
  non_unique_keys_in_a_json_object: "22037",
  /** 22038: error `ERRCODE_SINGLETON_SQL_JSON_ITEM_REQUIRED`. */
  singleton_sql_json_item_required: "22038",
  /** 22039: error `ERRCODE_SQL_JSON_ARRAY_NOT_FOUND`. */
  sql_json_array_not_found: "22039",
  /** 2203A: error `ERRCODE_SQL_JSON_MEMBER_NOT_FOUND`. */
  sql_json_member_not_found: "2203A",
  /** 2203B: error `ERRCODE_SQL_JSON_NUMBER_NOT_FOUND`. */
  sql_json_number_not_found: "2203B",
  /** 2203C: error `ERRCODE_SQL_JSON_OBJECT_NOT_FOUND`. */
  sql_json_object_not_found: "2203C",
  /** 2203D: error `ERRCODE_TOO_MANY_JSON_ARRAY_ELEMENTS`. */
  too_many_json_array_elements: "2203D",
  /** 2203E: error `ERRCODE_TOO_MANY_JSON_OBJECT_MEMBERS`. */
  too_many_json_object_members: "2203E",
  /** 2203F: error `ERRCODE_SQL_JSON_SCALAR_REQUIRED`. */
  sql_json_scalar_required: "2203F",
  /** 2203G: error `ERRCODE_SQL_JSON_ITEM_CANNOT_BE_CAST_TO_TARGET_TYPE`. */
  sql_json_item_cannot_be_cast_to_target_type: "2203G",

  // Class 23 - Integrity Constraint Violation
  /** 23000: error `ERRCODE_INTEGRITY_CONSTRAINT_VIOLATION`. */
  integrity_constraint_violation: "23000",
  /** 23001: error `ERRCODE_RESTRICT_VIOLATION`. */
  restrict_violation: "23001",
  /** 23502: error `ERRCODE_NOT_NULL_VIOLATION`. */
  not_null_violation: "23502",
  /** 23503: error `ERRCODE_FOREIGN_KEY_VIOLATION`. */
  foreign_key_violation: "23503",
  /** 23505: error `ERRCODE_UNIQUE_VIOLATION`. */
  unique_violation: "23505",
  /** 23514: error `ERRCODE_CHECK_VIOLATION`. */
  check_violation: "23514",
  /** 23P01: error `ERRCODE_EXCLUSION_VIOLATION`. */
  exclusion_violation: "23P01",

  // Class 24 - Invalid Cursor State
  /** 24000: error `ERRCODE_INVALID_CURSOR_STATE`. */
  invalid_cursor_state: "24000",

  // Class 25 - Invalid Transaction State
  /** 25000: error `ERRCODE_INVALID_TRANSACTION_STATE`. */
  invalid_transaction_state: "25000",
  /** 25001: error `ERRCODE_ACTIVE_SQL_TRANSACTION`. */
  active_sql_transaction: "25001",
  /** 25002: error `ERRCODE_BRANCH_TRANSACTION_ALREADY_ACTIVE`. */
  branch_transaction_already_active: "25002",
  /** 25008: error `ERRCODE_HELD_CURSOR_REQUIRES_SAME_ISOLATION_LEVEL`. */
  held_cursor_requires_same_isolation_level: "25008",
  /** 25003: error `ERRCODE_INAPPROPRIATE_ACCESS_MODE_FOR_BRANCH_TRANSACTION`. */
  inappropriate_access_mode_for_branch_transaction: "25003",
  /** 25004: error `ERRCODE_INAPPROPRIATE_ISOLATION_LEVEL_FOR_BRANCH_TRANSACTION`. */
  inappropriate_isolation_level_for_branch_transaction: "25004",
  /** 25005: error `ERRCODE_NO_ACTIVE_SQL_TRANSACTION_FOR_BRANCH_TRANSACTION`. */
  no_active_sql_transaction_for_branch_transaction: "25005",
  /** 25006: error `ERRCODE_READ_ONLY_SQL_TRANSACTION`. */
  read_only_sql_transaction: "25006",
  /** 25007: error `ERRCODE_SCHEMA_AND_DATA_STATEMENT_MIXING_NOT_SUPPORTED`. */
  schema_and_data_statement_mixing_not_supported: "25007",
  /** 25P01: error `ERRCODE_NO_ACTIVE_SQL_TRANSACTION`. */
  no_active_sql_transaction: "25P01",
  /** 25P02: error `ERRCODE_IN_FAILED_SQL_TRANSACTION`. */
  in_failed_sql_transaction: "25P02",
  /** 25P03: error `ERRCODE_IDLE_IN_TRANSACTION_SESSION_TIMEOUT`. */
  idle_in_transaction_session_timeout: "25P03",
  /** 25P04: error `ERRCODE_TRANSACTION_TIMEOUT`. */
  transaction_timeout: "25P04",

  // Class 26 - Invalid SQL Statement Name
  /** 26000: error `ERRCODE_INVALID_SQL_STATEMENT_NAME`. */
  invalid_sql_statement_name: "26000",

  // Class 27 - Triggered Data Change Violation
  /** 27000: error `ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION`. */
  triggered_data_change_violation: "27000",

  // Class 28 - Invalid Authorization Specification
  /** 28000: error `ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION`. */
  invalid_authorization_specification: "28000",
  /** 28P01: error `ERRCODE_INVALID_PASSWORD`. */
  invalid_password: "28P01",

  // Class 2B - Dependent Privilege Descriptors Still Exist
  /** 2B000: error `ERRCODE_DEPENDENT_PRIVILEGE_DESCRIPTORS_STILL_EXIST`. */
  dependent_privilege_descriptors_still_exist: "2B000",
  /** 2BP01: error `ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST`. */
  dependent_objects_still_exist: "2BP01",

  // Class 2D - Invalid Transaction Termination
  /** 2D000: error `ERRCODE_INVALID_TRANSACTION_TERMINATION`. */
  invalid_transaction_termination: "2D000",

  // Class 2F - SQL Routine Exception
  /** 2F000: error `ERRCODE_SQL_ROUTINE_EXCEPTION`. */
  sql_routine_exception: "2F000",
  /** 2F005: error `ERRCODE_S_R_E_FUNCTION_EXECUTED_NO_RETURN_STATEMENT`. */
  function_executed_no_return_statement: "2F005",
  /** 2F002: error `ERRCODE_S_R_E_MODIFYING_SQL_DATA_NOT_PERMITTED`. */
  modifying_sql_data_not_permitted: "2F002",
  /** 2F003: error `ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED`. */
  prohibited_sql_statement_attempted: "2F003",
  /** 2F004: error `ERRCODE_S_R_E_READING_SQL_DATA_NOT_PERMITTED`. */
  reading_sql_data_not_permitted: "2F004",

  // Class 34 - Invalid Cursor Name
  /** 34000: error `ERRCODE_INVALID_CURSOR_NAME`. */
  invalid_cursor_name: "34000",

  // Class 38 - External Routine Exception
  /** 38000: error `ERRCODE_EXTERNAL_ROUTINE_EXCEPTION`. */
  external_routine_exception: "38000",
  /** 38001: error `ERRCODE_E_R_E_CONTAINING_SQL_NOT_PERMITTED`. */
  containing_sql_not_permitted: "38001",
  /** 38002: error `ERRCODE_E_R_E_MODIFYING_SQL_DATA_NOT_PERMITTED`. */
  external_routine_exception_modifying_sql_data_not_permitted: "38002",
  /** 38003: error `ERRCODE_E_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED`. */
  external_routine_exception_prohibited_sql_statement_attempted: "38003",
  /** 38004: error `ERRCODE_E_R_E_READING_SQL_DATA_NOT_PERMITTED`. */
  external_routine_exception_reading_sql_data_not_permitted: "38004",

  // Class 39 - External Routine Invocation Exception
  /** 39000: error `ERRCODE_EXTERNAL_ROUTINE_INVOCATION_EXCEPTION`. */
  external_routine_invocation_exception: "39000",
  /** 39001: error `ERRCODE_E_R_I_E_INVALID_SQLSTATE_RETURNED`. */
  invalid_sqlstate_returned: "39001",
  /** 39004: error `ERRCODE_E_R_I_E_NULL_VALUE_NOT_ALLOWED`. */
  external_routine_invocation_exception_null_value_not_allowed: "39004",
  /** 39P01: error `ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED`. */
  trigger_protocol_violated: "39P01",
  /** 39P02: error `ERRCODE_E_R_I_E_SRF_PROTOCOL_VIOLATED`. */
  srf_protocol_violated: "39P02",
  /** 39P03: error `ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED`. */
  event_trigger_protocol_violated: "39P03",

  // Class 3B - Savepoint Exception
  /** 3B000: error `ERRCODE_SAVEPOINT_EXCEPTION`. */
  savepoint_exception: "3B000",
  /** 3B001: error `ERRCODE_S_E_INVALID_SPECIFICATION`. */
  invalid_savepoint_specification: "3B001",

  // Class 3D - Invalid Catalog Name
  /** 3D000: error `ERRCODE_INVALID_CATALOG_NAME`. */
  invalid_catalog_name: "3D000",

  // Class 3F - Invalid Schema Name
  /** 3F000: error `ERRCODE_INVALID_SCHEMA_NAME`. */
  invalid_schema_name: "3F000",

  // Class 40 - Transaction Rollback
  /** 40000: error `ERRCODE_TRANSACTION_ROLLBACK`. */
  transaction_rollback: "40000",
  /** 40002: error `ERRCODE_T_R_INTEGRITY_CONSTRAINT_VIOLATION`. */
  transaction_integrity_constraint_violation: "40002",
  /** 40001: error `ERRCODE_T_R_SERIALIZATION_FAILURE`. */
  serialization_failure: "40001",
  /** 40003: error `ERRCODE_T_R_STATEMENT_COMPLETION_UNKNOWN`. */
  statement_completion_unknown: "40003",
  /** 40P01: error `ERRCODE_T_R_DEADLOCK_DETECTED`. */
  deadlock_detected: "40P01",

  // Class 42 - Syntax Error or Access Rule Violation
  /** 42000: error `ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION`. */
  syntax_error_or_access_rule_violation: "42000",
  /** 42601: error `ERRCODE_SYNTAX_ERROR`. */
  syntax_error: "42601",
  /** 42501: error `ERRCODE_INSUFFICIENT_PRIVILEGE`. */
  insufficient_privilege: "42501",
  /** 42846: error `ERRCODE_CANNOT_COERCE`. */
  cannot_coerce: "42846",
  /** 42803: error `ERRCODE_GROUPING_ERROR`. */
  grouping_error: "42803",
  /** 42P20: error `ERRCODE_WINDOWING_ERROR`. */
  windowing_error: "42P20",
  /** 42P19: error `ERRCODE_INVALID_RECURSION`. */
  invalid_recursion: "42P19",
  /** 42830: error `ERRCODE_INVALID_FOREIGN_KEY`. */
  invalid_foreign_key: "42830",
  /** 42602: error `ERRCODE_INVALID_NAME`. */
  invalid_name: "42602",
  /** 42622: error `ERRCODE_NAME_TOO_LONG`. */
  name_too_long: "42622",
  /** 42939: error `ERRCODE_RESERVED_NAME`. */
  reserved_name: "42939",
  /** 42804: error `ERRCODE_DATATYPE_MISMATCH`. */
  datatype_mismatch: "42804",
  /** 42P18: error `ERRCODE_INDETERMINATE_DATATYPE`. */
  indeterminate_datatype: "42P18",
  /** 42P21: error `ERRCODE_COLLATION_MISMATCH`. */
  collation_mismatch: "42P21",
  /** 42P22: error `ERRCODE_INDETERMINATE_COLLATION`. */
  indeterminate_collation: "42P22",
  /** 42809: error `ERRCODE_WRONG_OBJECT_TYPE`. */
  wrong_object_type: "42809",
  /** 428C9: error `ERRCODE_GENERATED_ALWAYS`. */
  generated_always: "428C9",
  /** 42703: error `ERRCODE_UNDEFINED_COLUMN`. */
  undefined_column: "42703",
  /** 34000: error `ERRCODE_UNDEFINED_CURSOR`. Same code as `invalid_cursor_name`. */
  undefined_cursor: "34000",
  /** 3D000: error `ERRCODE_UNDEFINED_DATABASE`. Same code as `invalid_catalog_name`. */
  undefined_database: "3D000",
  /** 42883: error `ERRCODE_UNDEFINED_FUNCTION`. */
  undefined_function: "42883",
  /** 26000: error `ERRCODE_UNDEFINED_PSTATEMENT`. Same code as `invalid_sql_statement_name`. */
  undefined_pstatement: "26000",
  /** 3F000: error `ERRCODE_UNDEFINED_SCHEMA`. Same code as `invalid_schema_name`. */
  undefined_schema: "3F000",
  /** 42P01: error `ERRCODE_UNDEFINED_TABLE`. */
  undefined_table: "42P01",
  /** 42P02: error `ERRCODE_UNDEFINED_PARAMETER`. */
  undefined_parameter: "42P02",
  /** 42704: error `ERRCODE_UNDEFINED_OBJECT`. */
  undefined_object: "42704",
  /** 42701: error `ERRCODE_DUPLICATE_COLUMN`. */
  duplicate_column: "42701",
  /** 42P03: error `ERRCODE_DUPLICATE_CURSOR`. */
  duplicate_cursor: "42P03",
  /** 42P04: error `ERRCODE_DUPLICATE_DATABASE`. */
  duplicate_database: "42P04",
  /** 42723: error `ERRCODE_DUPLICATE_FUNCTION`. */
  duplicate_function: "42723",
  /** 42P05: error `ERRCODE_DUPLICATE_PSTATEMENT`. */
  duplicate_prepared_statement: "42P05",
  /** 42P06: error `ERRCODE_DUPLICATE_SCHEMA`. */
  duplicate_schema: "42P06",
  /** 42P07: error `ERRCODE_DUPLICATE_TABLE`. */
  duplicate_table: "42P07",
  /** 42712: error `ERRCODE_DUPLICATE_ALIAS`. */
  duplicate_alias: "42712",
  /** 42710: error `ERRCODE_DUPLICATE_OBJECT`. */
  duplicate_object: "42710",
  /** 42702: error `ERRCODE_AMBIGUOUS_COLUMN`. */
  ambiguous_column: "42702",
  /** 42725: error `ERRCODE_AMBIGUOUS_FUNCTION`. */
  ambiguous_function: "42725",
  /** 42P08: error `ERRCODE_AMBIGUOUS_PARAMETER`. */
  ambiguous_parameter: "42P08",
  /** 42P09: error `ERRCODE_AMBIGUOUS_ALIAS`. */
  ambiguous_alias: "42P09",
  /** 42P10: error `ERRCODE_INVALID_COLUMN_REFERENCE`. */
  invalid_column_reference: "42P10",
  /** 42611: error `ERRCODE_INVALID_COLUMN_DEFINITION`. */
  invalid_column_definition: "42611",
  /** 42P11: error `ERRCODE_INVALID_CURSOR_DEFINITION`. */
  invalid_cursor_definition: "42P11",
  /** 42P12: error `ERRCODE_INVALID_DATABASE_DEFINITION`. */
  invalid_database_definition: "42P12",
  /** 42P13: error `ERRCODE_INVALID_FUNCTION_DEFINITION`. */
  invalid_function_definition: "42P13",
  /** 42P14: error `ERRCODE_INVALID_PSTATEMENT_DEFINITION`. */
  invalid_prepared_statement_definition: "42P14",
  /** 42P15: error `ERRCODE_INVALID_SCHEMA_DEFINITION`. */
  invalid_schema_definition: "42P15",
  /** 42P16: error `ERRCODE_INVALID_TABLE_DEFINITION`. */
  invalid_table_definition: "42P16",
  /** 42P17: error `ERRCODE_INVALID_OBJECT_DEFINITION`. */
  invalid_object_definition: "42P17",

  // Class 44 - WITH CHECK OPTION Violation
  /** 44000: error `ERRCODE_WITH_CHECK_OPTION_VIOLATION`. */
  with_check_option_violation: "44000",

  // Class 53 - Insufficient Resources
  /** 53000: error `ERRCODE_INSUFFICIENT_RESOURCES`. */
  insufficient_resources: "53000",
  /** 53100: error `ERRCODE_DISK_FULL`. */
  disk_full: "53100",
  /** 53200: error `ERRCODE_OUT_OF_MEMORY`. */
  out_of_memory: "53200",
  /** 53300: error `ERRCODE_TOO_MANY_CONNECTIONS`. */
  too_many_connections: "53300",
  /** 53400: error `ERRCODE_CONFIGURATION_LIMIT_EXCEEDED`. */
  configuration_limit_exceeded: "53400",

  // Class 54 - Program Limit Exceeded
  /** 54000: error `ERRCODE_PROGRAM_LIMIT_EXCEEDED`. */
  program_limit_exceeded: "54000",
  /** 54001: error `ERRCODE_STATEMENT_TOO_COMPLEX`. */
  statement_too_complex: "54001",
  /** 54011: error `ERRCODE_TOO_MANY_COLUMNS`. */
  too_many_columns: "54011",
  /** 54023: error `ERRCODE_TOO_MANY_ARGUMENTS`. */
  too_many_arguments: "54023",

  // Class 55 - Object Not In Prerequisite State
  /** 55000: error `ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE`. */
  object_not_in_prerequisite_state: "55000",
  /** 55006: error `ERRCODE_OBJECT_IN_USE`. */
  object_in_use: "55006",
  /** 55P02: error `ERRCODE_CANT_CHANGE_RUNTIME_PARAM`. */
  cant_change_runtime_param: "55P02",
  /** 55P03: error `ERRCODE_LOCK_NOT_AVAILABLE`. */
  lock_not_available: "55P03",
  /** 55P04: error `ERRCODE_UNSAFE_NEW_ENUM_VALUE_USAGE`. */
  unsafe_new_enum_value_usage: "55P04",

  // Class 57 - Operator Intervention
  /** 57000: error `ERRCODE_OPERATOR_INTERVENTION`. */
  operator_intervention: "57000",
  /** 57014: error `ERRCODE_QUERY_CANCELED`. */
  query_canceled: "57014",
  /** 57P01: error `ERRCODE_ADMIN_SHUTDOWN`. */
  admin_shutdown: "57P01",
  /** 57P02: error `ERRCODE_CRASH_SHUTDOWN`. */
  crash_shutdown: "57P02",
  /** 57P03: error `ERRCODE_CANNOT_CONNECT_NOW`. */
  cannot_connect_now: "57P03",
  /** 57P04: error `ERRCODE_DATABASE_DROPPED`. */
  database_dropped: "57P04",
  /** 57P05: error `ERRCODE_IDLE_SESSION_TIMEOUT`. */
  idle_session_timeout: "57P05",

  // Class 58 - System Error (errors external to PostgreSQL itself)
  /** 58000: error `ERRCODE_SYSTEM_ERROR`. */
  system_error: "58000",
  /** 58030: error `ERRCODE_IO_ERROR`. */
  io_error: "58030",
  /** 58P01: error `ERRCODE_UNDEFINED_FILE`. */
  undefined_file: "58P01",
  /** 58P02: error `ERRCODE_DUPLICATE_FILE`. */
  duplicate_file: "58P02",
  /** 58P03: error `ERRCODE_FILE_NAME_TOO_LONG`. */
  file_name_too_long: "58P03",

  // Class F0 - Configuration File Error
  /** F0000: error `ERRCODE_CONFIG_FILE_ERROR`. */
  config_file_error: "F0000",
  /** F0001: error `ERRCODE_LOCK_FILE_EXISTS`. */
  lock_file_exists: "F0001",

  // Class HV - Foreign Data Wrapper Error (SQL/MED)
  /** HV000: error `ERRCODE_FDW_ERROR`. */
  fdw_error: "HV000",
  /** HV005: error `ERRCODE_FDW_COLUMN_NAME_NOT_FOUND`. */
  fdw_column_name_not_found: "HV005",
  /** HV002: error `ERRCODE_FDW_DYNAMIC_PARAMETER_VALUE_NEEDED`. */
  fdw_dynamic_parameter_value_needed: "HV002",
  /** HV010: error `ERRCODE_FDW_FUNCTION_SEQUENCE_ERROR`. */
  fdw_function_sequence_error: "HV010",
  /** HV021: error `ERRCODE_FDW_INCONSISTENT_DESCRIPTOR_INFORMATION`. */
  fdw_inconsistent_descriptor_information: "HV021",
  /** HV024: error `ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE`. */
  fdw_invalid_attribute_value: "HV024",
  /** HV007: error `ERRCODE_FDW_INVALID_COLUMN_NAME`. */
  fdw_invalid_column_name: "HV007",
  /** HV008: error `ERRCODE_FDW_INVALID_COLUMN_NUMBER`. */
  fdw_invalid_column_number: "HV008",
  /** HV004: error `ERRCODE_FDW_INVALID_DATA_TYPE`. */
  fdw_invalid_data_type: "HV004",
  /** HV006: error `ERRCODE_FDW_INVALID_DATA_TYPE_DESCRIPTORS`. */
  fdw_invalid_data_type_descriptors: "HV006",
  /** HV091: error `ERRCODE_FDW_INVALID_DESCRIPTOR_FIELD_IDENTIFIER`. */
  fdw_invalid_descriptor_field_identifier: "HV091",
  /** HV00B: error `ERRCODE_FDW_INVALID_HANDLE`. */
  fdw_invalid_handle: "HV00B",
  /** HV00C: error `ERRCODE_FDW_INVALID_OPTION_INDEX`. */
  fdw_invalid_option_index: "HV00C",
  /** HV00D: error `ERRCODE_FDW_INVALID_OPTION_NAME`. */
  fdw_invalid_option_name: "HV00D",
  /** HV090: error `ERRCODE_FDW_INVALID_STRING_LENGTH_OR_BUFFER_LENGTH`. */
  fdw_invalid_string_length_or_buffer_length: "HV090",
  /** HV00A: error `ERRCODE_FDW_INVALID_STRING_FORMAT`. */
  fdw_invalid_string_format: "HV00A",
  /** HV009: error `ERRCODE_FDW_INVALID_USE_OF_NULL_POINTER`. */
  fdw_invalid_use_of_null_pointer: "HV009",
  /** HV014: error `ERRCODE_FDW_TOO_MANY_HANDLES`. */
  fdw_too_many_handles: "HV014",
  /** HV001: error `ERRCODE_FDW_OUT_OF_MEMORY`. */
  fdw_out_of_memory: "HV001",
  /** HV00P: error `ERRCODE_FDW_NO_SCHEMAS`. */
  fdw_no_schemas: "HV00P",
  /** HV00J: error `ERRCODE_FDW_OPTION_NAME_NOT_FOUND`. */
  fdw_option_name_not_found: "HV00J",
  /** HV00K: error `ERRCODE_FDW_REPLY_HANDLE`. */
  fdw_reply_handle: "HV00K",
  /** HV00Q: error `ERRCODE_FDW_SCHEMA_NOT_FOUND`. */
  fdw_schema_not_found: "HV00Q",
  /** HV00R: error `ERRCODE_FDW_TABLE_NOT_FOUND`. */
  fdw_table_not_found: "HV00R",
  /** HV00L: error `ERRCODE_FDW_UNABLE_TO_CREATE_EXECUTION`. */
  fdw_unable_to_create_execution: "HV00L",
  /** HV00M: error `ERRCODE_FDW_UNABLE_TO_CREATE_REPLY`. */
  fdw_unable_to_create_reply: "HV00M",
  /** HV00N: error `ERRCODE_FDW_UNABLE_TO_ESTABLISH_CONNECTION`. */
  fdw_unable_to_establish_connection: "HV00N",

  // Class P0 - PL/pgSQL Error
  /** P0000: error `ERRCODE_PLPGSQL_ERROR`. */
  plpgsql_error: "P0000",
  /** P0001: error `ERRCODE_RAISE_EXCEPTION`. */
  raise_exception: "P0001",
  /** P0002: error `ERRCODE_NO_DATA_FOUND`. */
  no_data_found: "P0002",
  /** P0003: error `ERRCODE_TOO_MANY_ROWS`. */
  too_many_rows: "P0003",
  /** P0004: error `ERRCODE_ASSERT_FAILURE`. */
  assert_failure: "P0004",

  // Class XX - Internal Error
  /** XX000: error `ERRCODE_INTERNAL_ERROR`. */
  internal_error: "XX000",
  /** XX001: error `ERRCODE_DATA_CORRUPTED`. */
  data_corrupted: "XX001",
  /** XX002: error `ERRCODE_INDEX_CORRUPTED`. */
  index_corrupted: "XX002",
} as const

/**
 * A key of {@link SqlState}, such as `"unique_violation"`.
 *
 * @since 0.1.0
 * @category codes
 */
export type SqlStateName = keyof typeof SqlState

/**
 * A SQLSTATE code PostgreSQL defines, such as `"23505"`. Servers, extensions and other
 * databases speaking the protocol can send codes outside this set, so code received from the
 * wire is typed `string` and narrowed with {@link conditionNameOf}.
 *
 * @since 0.1.0
 * @category codes
 */
export type SqlStateCode = (typeof SqlState)[SqlStateName]

/**
 * SQLSTATE classes (the first two characters of a code) by class code, with the name taken from
 * the section header of errcodes.txt (`Class 23 - Integrity Constraint Violation` ->
 * `integrity_constraint_violation`; a trailing parenthesised remark is dropped).
 *
 * @since 0.1.0
 * @category classes
 */
export const SqlStateClass = {
  /** Class 00 - Successful Completion */
  "00": "successful_completion",
  /** Class 01 - Warning */
  "01": "warning",
  /** Class 02 - No Data (this is also a warning class per the SQL standard) */
  "02": "no_data",
  /** Class 03 - SQL Statement Not Yet Complete */
  "03": "sql_statement_not_yet_complete",
  /** Class 08 - Connection Exception */
  "08": "connection_exception",
  /** Class 09 - Triggered Action Exception */
  "09": "triggered_action_exception",
  /** Class 0A - Feature Not Supported */
  "0A": "feature_not_supported",
  /** Class 0B - Invalid Transaction Initiation */
  "0B": "invalid_transaction_initiation",
  /** Class 0F - Locator Exception */
  "0F": "locator_exception",
  /** Class 0L - Invalid Grantor */
  "0L": "invalid_grantor",
  /** Class 0P - Invalid Role Specification */
  "0P": "invalid_role_specification",
  /** Class 0Z - Diagnostics Exception */
  "0Z": "diagnostics_exception",
  /** Class 10 - XQuery Error */
  "10": "xquery_error",
  /** Class 20 - Case Not Found */
  "20": "case_not_found",
  /** Class 21 - Cardinality Violation */
  "21": "cardinality_violation",
  /** Class 22 - Data Exception */
  "22": "data_exception",
  /** Class 23 - Integrity Constraint Violation */
  "23": "integrity_constraint_violation",
  /** Class 24 - Invalid Cursor State */
  "24": "invalid_cursor_state",
  /** Class 25 - Invalid Transaction State */
  "25": "invalid_transaction_state",
  /** Class 26 - Invalid SQL Statement Name */
  "26": "invalid_sql_statement_name",
  /** Class 27 - Triggered Data Change Violation */
  "27": "triggered_data_change_violation",
  /** Class 28 - Invalid Authorization Specification */
  "28": "invalid_authorization_specification",
  /** Class 2B - Dependent Privilege Descriptors Still Exist */
  "2B": "dependent_privilege_descriptors_still_exist",
  /** Class 2D - Invalid Transaction Termination */
  "2D": "invalid_transaction_termination",
  /** Class 2F - SQL Routine Exception */
  "2F": "sql_routine_exception",
  /** Class 34 - Invalid Cursor Name */
  "34": "invalid_cursor_name",
  /** Class 38 - External Routine Exception */
  "38": "external_routine_exception",
  /** Class 39 - External Routine Invocation Exception */
  "39": "external_routine_invocation_exception",
  /** Class 3B - Savepoint Exception */
  "3B": "savepoint_exception",
  /** Class 3D - Invalid Catalog Name */
  "3D": "invalid_catalog_name",
  /** Class 3F - Invalid Schema Name */
  "3F": "invalid_schema_name",
  /** Class 40 - Transaction Rollback */
  "40": "transaction_rollback",
  /** Class 42 - Syntax Error or Access Rule Violation */
  "42": "syntax_error_or_access_rule_violation",
  /** Class 44 - WITH CHECK OPTION Violation */
  "44": "with_check_option_violation",
  /** Class 53 - Insufficient Resources */
  "53": "insufficient_resources",
  /** Class 54 - Program Limit Exceeded */
  "54": "program_limit_exceeded",
  /** Class 55 - Object Not In Prerequisite State */
  "55": "object_not_in_prerequisite_state",
  /** Class 57 - Operator Intervention */
  "57": "operator_intervention",
  /** Class 58 - System Error (errors external to PostgreSQL itself) */
  "58": "system_error",
  /** Class F0 - Configuration File Error */
  "F0": "configuration_file_error",
  /** Class HV - Foreign Data Wrapper Error (SQL/MED) */
  "HV": "foreign_data_wrapper_error",
  /** Class P0 - PL/pgSQL Error */
  "P0": "pl_pgsql_error",
  /** Class XX - Internal Error */
  "XX": "internal_error",
} as const

/**
 * A two-character class code, a key of {@link SqlStateClass}.
 *
 * @since 0.1.0
 * @category classes
 */
export type SqlStateClassCode = keyof typeof SqlStateClass

/**
 * A class name, a value of {@link SqlStateClass}.
 *
 * @since 0.1.0
 * @category classes
 */
export type SqlStateClassName = (typeof SqlStateClass)[SqlStateClassCode]

const nameByCode: ReadonlyMap<string, SqlStateName> = new Map<string, SqlStateName>([
  ["00000", "successful_completion"],
  ["01000", "warning"],
  ["0100C", "dynamic_result_sets_returned"],
  ["01008", "implicit_zero_bit_padding"],
  ["01003", "null_value_eliminated_in_set_function"],
  ["01007", "privilege_not_granted"],
  ["01006", "privilege_not_revoked"],
  ["01004", "warning_string_data_right_truncation"],
  ["01P01", "deprecated_feature"],
  ["02000", "no_data"],
  ["02001", "no_additional_dynamic_result_sets_returned"],
  ["03000", "sql_statement_not_yet_complete"],
  ["08000", "connection_exception"],
  ["08003", "connection_does_not_exist"],
  ["08006", "connection_failure"],
  ["08001", "sqlclient_unable_to_establish_sqlconnection"],
  ["08004", "sqlserver_rejected_establishment_of_sqlconnection"],
  ["08007", "transaction_resolution_unknown"],
  ["08P01", "protocol_violation"],
  ["09000", "triggered_action_exception"],
  ["0A000", "feature_not_supported"],
  ["0B000", "invalid_transaction_initiation"],
  ["0F000", "locator_exception"],
  ["0F001", "invalid_locator_specification"],
  ["0L000", "invalid_grantor"],
  ["0LP01", "invalid_grant_operation"],
  ["0P000", "invalid_role_specification"],
  ["0Z000", "diagnostics_exception"],
  ["0Z002", "stacked_diagnostics_accessed_without_active_handler"],
  ["10608", "invalid_argument_for_xquery"],
  ["20000", "case_not_found"],
  ["21000", "cardinality_violation"],
  ["22000", "data_exception"],
  ["2202E", "array_subscript_error"],
  ["22021", "character_not_in_repertoire"],
  ["22008", "datetime_field_overflow"],
  ["22012", "division_by_zero"],
  ["22005", "error_in_assignment"],
  ["2200B", "escape_character_conflict"],
  ["22022", "indicator_overflow"],
  ["22015", "interval_field_overflow"],
  ["2201E", "invalid_argument_for_logarithm"],
  ["22014", "invalid_argument_for_ntile_function"],
  ["22016", "invalid_argument_for_nth_value_function"],
  ["2201F", "invalid_argument_for_power_function"],
  ["2201G", "invalid_argument_for_width_bucket_function"],
  ["22018", "invalid_character_value_for_cast"],
  ["22007", "invalid_datetime_format"],
  ["22019", "invalid_escape_character"],
  ["2200D", "invalid_escape_octet"],
  ["22025", "invalid_escape_sequence"],
  ["22P06", "nonstandard_use_of_escape_character"],
  ["22010", "invalid_indicator_parameter_value"],
  ["22023", "invalid_parameter_value"],
  ["22013", "invalid_preceding_or_following_size"],
  ["2201B", "invalid_regular_expression"],
  ["2201W", "invalid_row_count_in_limit_clause"],
  ["2201X", "invalid_row_count_in_result_offset_clause"],
  ["2202H", "invalid_tablesample_argument"],
  ["2202G", "invalid_tablesample_repeat"],
  ["22009", "invalid_time_zone_displacement_value"],
  ["2200C", "invalid_use_of_escape_character"],
  ["2200G", "most_specific_type_mismatch"],
  ["22004", "null_value_not_allowed"],
  ["22002", "null_value_no_indicator_parameter"],
  ["22003", "numeric_value_out_of_range"],
  ["2200H", "sequence_generator_limit_exceeded"],
  ["22026", "string_data_length_mismatch"],
  ["22001", "string_data_right_truncation"],
  ["22011", "substring_error"],
  ["22027", "trim_error"],
  ["22024", "unterminated_c_string"],
  ["2200F", "zero_length_character_string"],
  ["22P01", "floating_point_exception"],
  ["22P02", "invalid_text_representation"],
  ["22P03", "invalid_binary_representation"],
  ["22P04", "bad_copy_file_format"],
  ["22P05", "untranslatable_character"],
  ["2200L", "not_an_xml_document"],
  ["2200M", "invalid_xml_document"],
  ["2200N", "invalid_xml_content"],
  ["2200S", "invalid_xml_comment"],
  ["2200T", "invalid_xml_processing_instruction"],
  ["22030", "duplicate_json_object_key_value"],
  ["22031", "invalid_argument_for_sql_json_datetime_function"],
  ["22032", "invalid_json_text"],
  ["22033", "invalid_sql_json_subscript"],
  ["22034", "more_than_one_sql_json_item"],
  ["22035", "no_sql_json_item"],
  ["22036", "non_numeric_sql_json_item"],
  ["22037", "non_unique_keys_in_a_json_object"],
  ["22038", "singleton_sql_json_item_required"],
  ["22039", "sql_json_array_not_found"],
  ["2203A", "sql_json_member_not_found"],
  ["2203B", "sql_json_number_not_found"],
  ["2203C", "sql_json_object_not_found"],
  ["2203D", "too_many_json_array_elements"],
  ["2203E", "too_many_json_object_members"],
  ["2203F", "sql_json_scalar_required"],
  ["2203G", "sql_json_item_cannot_be_cast_to_target_type"],
  ["23000", "integrity_constraint_violation"],
  ["23001", "restrict_violation"],
  ["23502", "not_null_violation"],
  ["23503", "foreign_key_violation"],
  ["23505", "unique_violation"],
  ["23514", "check_violation"],
  ["23P01", "exclusion_violation"],
  ["24000", "invalid_cursor_state"],
  ["25000", "invalid_transaction_state"],
  ["25001", "active_sql_transaction"],
  ["25002", "branch_transaction_already_active"],
  ["25008", "held_cursor_requires_same_isolation_level"],
  ["25003", "inappropriate_access_mode_for_branch_transaction"],
  ["25004", "inappropriate_isolation_level_for_branch_transaction"],
  ["25005", "no_active_sql_transaction_for_branch_transaction"],
  ["25006", "read_only_sql_transaction"],
  ["25007", "schema_and_data_statement_mixing_not_supported"],
  ["25P01", "no_active_sql_transaction"],
  ["25P02", "in_failed_sql_transaction"],
  ["25P03", "idle_in_transaction_session_timeout"],
  ["25P04", "transaction_timeout"],
  ["26000", "invalid_sql_statement_name"],
  ["27000", "triggered_data_change_violation"],
  ["28000", "invalid_authorization_specification"],
  ["28P01", "invalid_password"],
  ["2B000", "dependent_privilege_descriptors_still_exist"],
  ["2BP01", "dependent_objects_still_exist"],
  ["2D000", "invalid_transaction_termination"],
  ["2F000", "sql_routine_exception"],
  ["2F005", "function_executed_no_return_statement"],
  ["2F002", "modifying_sql_data_not_permitted"],
  ["2F003", "prohibited_sql_statement_attempted"],
  ["2F004", "reading_sql_data_not_permitted"],
  ["34000", "invalid_cursor_name"],
  ["38000", "external_routine_exception"],
  ["38001", "containing_sql_not_permitted"],
  ["38002", "external_routine_exception_modifying_sql_data_not_permitted"],
  ["38003", "external_routine_exception_prohibited_sql_statement_attempted"],
  ["38004", "external_routine_exception_reading_sql_data_not_permitted"],
  ["39000", "external_routine_invocation_exception"],
  ["39001", "invalid_sqlstate_returned"],
  ["39004", "external_routine_invocation_exception_null_value_not_allowed"],
  ["39P01", "trigger_protocol_violated"],
  ["39P02", "srf_protocol_violated"],
  ["39P03", "event_trigger_protocol_violated"],
  ["3B000", "savepoint_exception"],
  ["3B001", "invalid_savepoint_specification"],
  ["3D000", "invalid_catalog_name"],
  ["3F000", "invalid_schema_name"],
  ["40000", "transaction_rollback"],
  ["40002", "transaction_integrity_constraint_violation"],
  ["40001", "serialization_failure"],
  ["40003", "statement_completion_unknown"],
  ["40P01", "deadlock_detected"],
  ["42000", "syntax_error_or_access_rule_violation"],
  ["42601", "syntax_error"],
  ["42501", "insufficient_privilege"],
  ["42846", "cannot_coerce"],
  ["42803", "grouping_error"],
  ["42P20", "windowing_error"],
  ["42P19", "invalid_recursion"],
  ["42830", "invalid_foreign_key"],
  ["42602", "invalid_name"],
  ["42622", "name_too_long"],
  ["42939", "reserved_name"],
  ["42804", "datatype_mismatch"],
  ["42P18", "indeterminate_datatype"],
  ["42P21", "collation_mismatch"],
  ["42P22", "indeterminate_collation"],
  ["42809", "wrong_object_type"],
  ["428C9", "generated_always"],
  ["42703", "undefined_column"],
  ["42883", "undefined_function"],
  ["42P01", "undefined_table"],
  ["42P02", "undefined_parameter"],
  ["42704", "undefined_object"],
  ["42701", "duplicate_column"],
  ["42P03", "duplicate_cursor"],
  ["42P04", "duplicate_database"],
  ["42723", "duplicate_function"],
  ["42P05", "duplicate_prepared_statement"],
  ["42P06", "duplicate_schema"],
  ["42P07", "duplicate_table"],
  ["42712", "duplicate_alias"],
  ["42710", "duplicate_object"],
  ["42702", "ambiguous_column"],
  ["42725", "ambiguous_function"],
  ["42P08", "ambiguous_parameter"],
  ["42P09", "ambiguous_alias"],
  ["42P10", "invalid_column_reference"],
  ["42611", "invalid_column_definition"],
  ["42P11", "invalid_cursor_definition"],
  ["42P12", "invalid_database_definition"],
  ["42P13", "invalid_function_definition"],
  ["42P14", "invalid_prepared_statement_definition"],
  ["42P15", "invalid_schema_definition"],
  ["42P16", "invalid_table_definition"],
  ["42P17", "invalid_object_definition"],
  ["44000", "with_check_option_violation"],
  ["53000", "insufficient_resources"],
  ["53100", "disk_full"],
  ["53200", "out_of_memory"],
  ["53300", "too_many_connections"],
  ["53400", "configuration_limit_exceeded"],
  ["54000", "program_limit_exceeded"],
  ["54001", "statement_too_complex"],
  ["54011", "too_many_columns"],
  ["54023", "too_many_arguments"],
  ["55000", "object_not_in_prerequisite_state"],
  ["55006", "object_in_use"],
  ["55P02", "cant_change_runtime_param"],
  ["55P03", "lock_not_available"],
  ["55P04", "unsafe_new_enum_value_usage"],
  ["57000", "operator_intervention"],
  ["57014", "query_canceled"],
  ["57P01", "admin_shutdown"],
  ["57P02", "crash_shutdown"],
  ["57P03", "cannot_connect_now"],
  ["57P04", "database_dropped"],
  ["57P05", "idle_session_timeout"],
  ["58000", "system_error"],
  ["58030", "io_error"],
  ["58P01", "undefined_file"],
  ["58P02", "duplicate_file"],
  ["58P03", "file_name_too_long"],
  ["F0000", "config_file_error"],
  ["F0001", "lock_file_exists"],
  ["HV000", "fdw_error"],
  ["HV005", "fdw_column_name_not_found"],
  ["HV002", "fdw_dynamic_parameter_value_needed"],
  ["HV010", "fdw_function_sequence_error"],
  ["HV021", "fdw_inconsistent_descriptor_information"],
  ["HV024", "fdw_invalid_attribute_value"],
  ["HV007", "fdw_invalid_column_name"],
  ["HV008", "fdw_invalid_column_number"],
  ["HV004", "fdw_invalid_data_type"],
  ["HV006", "fdw_invalid_data_type_descriptors"],
  ["HV091", "fdw_invalid_descriptor_field_identifier"],
  ["HV00B", "fdw_invalid_handle"],
  ["HV00C", "fdw_invalid_option_index"],
  ["HV00D", "fdw_invalid_option_name"],
  ["HV090", "fdw_invalid_string_length_or_buffer_length"],
  ["HV00A", "fdw_invalid_string_format"],
  ["HV009", "fdw_invalid_use_of_null_pointer"],
  ["HV014", "fdw_too_many_handles"],
  ["HV001", "fdw_out_of_memory"],
  ["HV00P", "fdw_no_schemas"],
  ["HV00J", "fdw_option_name_not_found"],
  ["HV00K", "fdw_reply_handle"],
  ["HV00Q", "fdw_schema_not_found"],
  ["HV00R", "fdw_table_not_found"],
  ["HV00L", "fdw_unable_to_create_execution"],
  ["HV00M", "fdw_unable_to_create_reply"],
  ["HV00N", "fdw_unable_to_establish_connection"],
  ["P0000", "plpgsql_error"],
  ["P0001", "raise_exception"],
  ["P0002", "no_data_found"],
  ["P0003", "too_many_rows"],
  ["P0004", "assert_failure"],
  ["XX000", "internal_error"],
  ["XX001", "data_corrupted"],
  ["XX002", "index_corrupted"],
])

/**
 * The condition name of a SQLSTATE code, or `undefined` for a code PostgreSQL does not define.
 * For a code with several keys it returns the PL/pgSQL condition name (`"34000"` ->
 * `"invalid_cursor_name"`, not the alias `undefined_cursor`).
 *
 * @example
 * ```ts
 * conditionNameOf("40001") // "serialization_failure"
 * conditionNameOf("ZZ999") // undefined
 * ```
 * @since 0.1.0
 * @category lookup
 */
export const conditionNameOf = (code: string): SqlStateName | undefined => nameByCode.get(code)

/**
 * The class name for a code's first two characters (a whole code or just its class), or
 * `undefined` for a class PostgreSQL does not define.
 *
 * @example
 * ```ts
 * classNameOf("23505") // "integrity_constraint_violation"
 * classNameOf("23")    // "integrity_constraint_violation"
 * ```
 * @since 0.1.0
 * @category lookup
 */
export const classNameOf = (code: string): SqlStateClassName | undefined => {
  const klass = code.slice(0, 2)
  return Object.hasOwn(SqlStateClass, klass) ? SqlStateClass[klass as SqlStateClassCode] : undefined
}

/**
 * Whether rerunning the whole transaction from its start may succeed: true for
 * `serialization_failure` (40001) and `deadlock_detected` (40P01), where the server rolled the
 * transaction back because of a conflict with concurrent transactions.
 *
 * Details: this judges the error code only. It says nothing about whether the statement reached
 * the server (pgx's `SafeToRetry` answers that other question: the request failed before any byte
 * was sent), and it does not make a single statement of a larger transaction safe to repeat on
 * its own. Other codes of class 40, connection errors (class 08) and `admin_shutdown` can also
 * be worth a retry, but whether the work was done is unknown, so they are left to the caller.
 *
 * @example
 * ```ts
 * isRetryable(SqlState.serialization_failure) // true
 * isRetryable(SqlState.unique_violation)      // false
 * ```
 * @since 0.1.0
 * @category predicates
 */
export const isRetryable = (code: string): boolean =>
  code === SqlState.serialization_failure || code === SqlState.deadlock_detected
