package dev.ferry.orchestrator.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.util.JsonFormat;
import dev.ferry.protocol.v1.ConsoleReply;
import org.junit.jupiter.api.Test;

class ResponsesTest {
    @Test
    void printsConsoleLinesAsTheGuestWroteThem() throws Exception {
        ConsoleReply c = ConsoleReply.newBuilder().addLines("seq=1 a<b & c>d 'q'").build();
        String line = Responses.line(c);
        assertEquals("{\"instance_id\":\"\",\"lines\":[\"seq=1 a<b & c>d 'q'\"],\"found\":false,\"epoch\":\"0\"}\n", line);
        ConsoleReply back = parseConsole(line);
        assertEquals(c.getLines(0), back.getLines(0));
    }

    @Test
    void leavesABackslashFollowedByEscapeLikeTextAlone() throws Exception {
        String text = "C:\\u003d and \\\\u0027";
        ConsoleReply c = ConsoleReply.newBuilder().addLines(text).build();
        assertEquals(text, parseConsole(Responses.line(c)).getLines(0));
    }

    private static ConsoleReply parseConsole(String json) throws Exception {
        ConsoleReply.Builder b = ConsoleReply.newBuilder();
        JsonFormat.parser().merge(json, b);
        return b.build();
    }
}
