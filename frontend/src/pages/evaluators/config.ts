// What each kind of evaluator is configured with, as the form's fields, and how an
// evaluator reads in a sentence. The server validates the config again (precisely);
// the form only shapes it.
import type { EvaluatorKind } from "./api";

export type FieldType = "text" | "longtext" | "number" | "checkbox" | "json";

export interface ConfigField {
  name: string;
  label: string;
  type: FieldType;
  required: boolean;
  help?: string;
}

export interface KindSpec {
  label: string;
  fields: ConfigField[];
}

const caseSensitive: ConfigField = {
  name: "case_sensitive",
  label: "Case sensitive",
  type: "checkbox",
  required: false,
};

/** The kinds a person configures here; others (code evaluators) are registered by workers. */
export const KINDS: Partial<Record<EvaluatorKind, KindSpec>> = {
  contains: {
    label: "Contains",
    fields: [{ name: "text", label: "Text", type: "text", required: true }, caseSensitive],
  },
  not_contains: {
    label: "Does not contain",
    fields: [{ name: "text", label: "Text", type: "text", required: true }, caseSensitive],
  },
  regex: {
    label: "Matches a regular expression",
    fields: [{ name: "pattern", label: "Pattern", type: "text", required: true }, caseSensitive],
  },
  equals_expected: { label: "Equals the expected output", fields: [] },
  is_json: { label: "Is JSON", fields: [] },
  json_schema: {
    label: "Matches a JSON schema",
    fields: [
      {
        name: "schema",
        label: "JSON schema",
        type: "json",
        required: true,
        help: 'Draft 2020-12, e.g. {"type": "object", "required": ["reply"]}',
      },
    ],
  },
  length: {
    label: "Length between",
    fields: [
      { name: "min", label: "Fewest characters", type: "number", required: false },
      { name: "max", label: "Most characters", type: "number", required: false },
    ],
  },
  latency: {
    label: "Latency at most",
    fields: [{ name: "max_ms", label: "Longest run (ms)", type: "number", required: true }],
  },
  cost: {
    label: "Cost at most",
    fields: [{ name: "max_usd", label: "Dearest run (USD)", type: "number", required: true }],
  },
  llm_judge: {
    label: "LLM judge",
    fields: [
      {
        name: "rubric",
        label: "Rubric",
        type: "longtext",
        required: true,
        help: "What a good output does, in plain words.",
      },
      {
        name: "model",
        label: "Model",
        type: "text",
        required: false,
        help: "Blank: the server's HATCHET_JUDGE_MODEL.",
      },
    ],
  },
};

export function kindLabel(kind: string): string {
  if (kind === "code") return "Code (SDK)";
  return KINDS[kind as EvaluatorKind]?.label ?? kind;
}

/** The form's text for each field of a config (checkboxes as "true"/""). */
export type ConfigDraft = Record<string, string>;

export function draftOf(kind: string, config: Record<string, unknown>): ConfigDraft {
  const draft: ConfigDraft = {};
  for (const field of KINDS[kind as EvaluatorKind]?.fields ?? []) {
    const value = config[field.name];
    if (value === undefined || value === null) continue;
    if (field.type === "json") draft[field.name] = JSON.stringify(value, null, 2);
    else if (field.type === "checkbox") draft[field.name] = value ? "true" : "";
    else draft[field.name] = String(value);
  }
  return draft;
}

export type ConfigResult = { config: Record<string, unknown> } | { error: string };

/** The config to send for a draft, or what is wrong with it (a number or JSON that is not one). */
export function configOf(kind: string, draft: ConfigDraft): ConfigResult {
  const config: Record<string, unknown> = {};
  for (const field of KINDS[kind as EvaluatorKind]?.fields ?? []) {
    const text = (draft[field.name] ?? "").trim();
    if (field.type === "checkbox") {
      config[field.name] = text === "true";
      continue;
    }
    if (!text) continue;
    if (field.type === "number") {
      const value = Number(text);
      if (!Number.isFinite(value)) return { error: `${field.label} is not a number: ${text}` };
      config[field.name] = value;
    } else if (field.type === "json") {
      try {
        config[field.name] = JSON.parse(text);
      } catch {
        return { error: `${field.label} is not JSON.` };
      }
    } else {
      config[field.name] = text;
    }
  }
  return { config };
}

/** One line that says what the evaluator checks: "contains 'refund'", "at most 2000 ms". */
export function describe(kind: string, config: Record<string, unknown>): string {
  const quoted = (value: unknown) => `"${String(value)}"`;
  switch (kind) {
    case "contains":
      return `contains ${quoted(config.text)}`;
    case "not_contains":
      return `does not contain ${quoted(config.text)}`;
    case "regex":
      return `matches /${String(config.pattern)}/`;
    case "equals_expected":
      return "equals the row's expected output";
    case "is_json":
      return "is valid JSON";
    case "json_schema":
      return "matches a JSON schema";
    case "length": {
      const min = config.min ?? null;
      const max = config.max ?? null;
      if (min !== null && max !== null) return `${min} to ${max} characters`;
      return min !== null ? `at least ${min} characters` : `at most ${max} characters`;
    }
    case "latency":
      return `runs in at most ${config.max_ms} ms`;
    case "cost":
      return `costs at most $${config.max_usd}`;
    case "llm_judge":
      return `${config.model ?? "judge"}: ${String(config.rubric ?? "")}`;
    case "code":
      return `${String(config.function)}, run by the workers that register it (last: ${String(config.worker)})`;
    default:
      return JSON.stringify(config);
  }
}
