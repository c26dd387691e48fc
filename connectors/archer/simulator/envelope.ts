/** Archer's response shapes, as the simulator writes them. */

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const ok = (obj: unknown): Reply => ({
  status: 200,
  body: { Links: [], RequestedObject: obj, IsSuccessful: true, ValidationMessages: [] },
});

export const okList = (objs: unknown[]): Reply => ({
  status: 200,
  body: objs.map((o) => ({ Links: [], RequestedObject: o, IsSuccessful: true, ValidationMessages: [] })),
});

/** A validation failure: IsSuccessful false inside the envelope, whatever the HTTP status. */
export function fail(status: number, key: string, message: string, validator = "ContentValidator"): Reply {
  return {
    status,
    body: {
      Links: [],
      RequestedObject: null,
      IsSuccessful: false,
      ValidationMessages: [
        {
          Reason: "Validation",
          Severity: 3,
          MessageKey: `ValidationMessageTemplates:${key}`,
          Description: message,
          Location: -1,
          ErroredValue: null,
          Validator: validator,
          XmlData: null,
          ResourcedMessage: message,
        },
      ],
    },
  };
}

/** ASP.NET Web API's own errors (auth, routing, media type) are not envelopes. */
export const aspnet = (status: number, message: string): Reply => ({ status, body: { Message: message } });
