/** Retrieved documents from the shapes retrievers report them in. */
import type { Json, RetrievedDocument } from '../model/genai.js';
import { decodeJson, isObject, num, str, type JsonObject } from './util.js';

const URI_KEYS = ['uri', 'url', 'source', 'doc_uri'] as const;

function uriOf(o: JsonObject | undefined): string | null {
  if (o === undefined) return null;
  for (const k of URI_KEYS) {
    const v = o[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return null;
}

function firstString(o: JsonObject, keys: readonly string[]): string | null {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string') return v;
  }
  return null;
}

const CONTENT_KEYS = ['content', 'page_content', 'text', 'pageContent'] as const;
const SCORE_KEYS = ['score', 'relevance_score', 'similarity'] as const;

/**
 * One document from an object in any of the common shapes: OTel `{id, content, score}`, LangChain
 * `{page_content, metadata}`, MLflow's Document, OpenInference's unflattened `{id, content, score, metadata}`.
 * Null when the object has neither content nor id (not a document).
 */
export function toDocument(o: JsonObject): RetrievedDocument | null {
  const content = firstString(o, CONTENT_KEYS);
  let meta: Json | undefined = o.metadata;
  // OpenInference sends document metadata as a JSON string.
  if (typeof meta === 'string') meta = decodeJson(meta);
  const metaObj = isObject(meta) ? meta : undefined;
  const rawId = o.id ?? metaObj?.id ?? metaObj?.doc_id;
  const id = rawId === undefined || rawId === null ? null : str(rawId) || null;
  if (content === null && id === null) return null;
  let score: number | null = null;
  for (const k of SCORE_KEYS) {
    score = num(o[k]);
    if (score !== null) break;
  }
  if (score === null && metaObj !== undefined) score = num(metaObj.score);
  return { id, content, score, uri: uriOf(o) ?? uriOf(metaObj) };
}

/** A list of document-like objects, or null when the value is not one (so callers can try another source). */
export function documentsFrom(v: Json | undefined): RetrievedDocument[] | null {
  if (!Array.isArray(v)) return null;
  const out: RetrievedDocument[] = [];
  for (const item of v) {
    if (!isObject(item)) return null;
    const doc = toDocument(isObject(item.document) ? item.document : item);
    if (doc === null) return null;
    out.push(doc);
  }
  return out;
}

/** LangChain/LlamaIndex Document lists are unmistakable (`page_content`), even on a span not typed RETRIEVER. */
export function looksLikeDocumentList(v: Json | undefined): boolean {
  if (!Array.isArray(v) || v.length === 0) return false;
  const first = v[0];
  return isObject(first) && typeof first.page_content === 'string';
}
