import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

// The OpenAPI transform of the admin API: fastify-type-provider-zod's, plus
// request bodies given per content type ({ content: { type: { schema } } }),
// which it does not convert (the roster takes JSON, EDEXML and a zip).

type Transform = typeof jsonSchemaTransform;
type ContentBody = { content: Record<string, { schema: z.ZodType }> };

const isContentBody = (body: unknown): body is ContentBody =>
  typeof body === 'object' && body !== null && 'content' in body && !(body instanceof z.ZodType);

export const adminSchemaTransform: Transform = (document) => {
  const body: unknown = document.schema?.body;
  if (!isContentBody(body)) return jsonSchemaTransform(document);
  const { body: _body, ...rest } = document.schema;
  const out = jsonSchemaTransform({ ...document, schema: rest });
  const content = Object.fromEntries(Object.entries(body.content).map(([type, { schema }]) => [type, { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) }]));
  return { ...out, schema: { ...out.schema, body: { content } } };
};
